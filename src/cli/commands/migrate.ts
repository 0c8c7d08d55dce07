/** `pictor migrate`: copy an account between two Cloudflare-Images-compatible APIs (see transfer/migrate.ts). */
import { resolve } from 'node:path';
import { ImagesApi } from '../../transfer/images-api.js';
import { migrate as runMigrate } from '../../transfer/migrate.js';
import {
  baseUrl,
  concurrency,
  http,
  printReport,
  progress,
  str,
  transferDetails,
  transferOptions,
  type Options,
  type Values,
} from './transfer-output.js';

export const migrate = {
  words: ['migrate'],
  summary: 'copy an account (images, variants, settings, signing keys) from one Images API to another',
  synopsis:
    '--from URL --from-account ID --from-token T --to URL --to-account ID --to-token T [--verify] [--overwrite]',
  details: [
    '  --from URL, --to URL     base URLs ending in /client/v4 (Cloudflare: https://api.cloudflare.com/client/v4)',
    '  --from-account ID, --to-account ID, --from-token T, --to-token T   the two accounts and their tokens',
    '  --verify                 compare both sides at the end (ids, metadata, creator, private flag, sha256); exit 1 on a difference',
    '  --overwrite              replace a target image that has the same id and other bytes (default: report it, keep it)',
    transferDetails,
  ].join('\n'),
  options: {
    from: { type: 'string' },
    'from-account': { type: 'string' },
    'from-token': { type: 'string' },
    to: { type: 'string' },
    'to-account': { type: 'string' },
    'to-token': { type: 'string' },
    verify: { type: 'boolean', default: false },
    overwrite: { type: 'boolean', default: false },
    ...transferOptions,
  } satisfies Options as Options,
  async run({ values }: { values: Values; positionals?: string[] }): Promise<number> {
    const h = http(values);
    const fromAccount = str(values, 'from-account', true)!;
    const toAccount = str(values, 'to-account', true)!;
    const from = new ImagesApi(baseUrl(values, 'from'), fromAccount, str(values, 'from-token', true)!, h);
    const to = new ImagesApi(baseUrl(values, 'to'), toAccount, str(values, 'to-token', true)!, h);
    const json = values.json === true;
    const dryRun = values['dry-run'] === true;
    const report = await runMigrate({
      from,
      to,
      concurrency: concurrency(values),
      dryRun,
      overwrite: values.overwrite === true,
      verify: values.verify === true,
      state: resolve(str(values, 'state') ?? `pictor-migrate-${fromAccount}-${toAccount}.state.jsonl`),
      progress: progress(values, 'migrate'),
      verifyProgress: progress(values, 'verify'),
      onItem: (key, o) => {
        if (!json && dryRun && o.result === 'copied')
          process.stdout.write(
            `would copy ${key}${o.note && o.note !== 'would copy' ? `: ${o.note}` : ''}\n`,
          );
      },
    });
    printReport('migrate', report, json);
    return report.failed.length + report.failedNotListed > 0 || (report.verify && !report.verify.ok) ? 1 : 0;
  },
};
