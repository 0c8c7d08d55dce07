/** `pictor export`: every original of an account plus manifest.jsonl, variants.json, keys.json (see transfer/export.ts). */
import { resolve } from 'node:path';
import { exportAccount } from '../../transfer/export.js';
import { ImagesApi } from '../../transfer/images-api.js';
import {
  baseUrl,
  concurrency,
  FlagError,
  http,
  printReport,
  progress,
  str,
  transferDetails,
  transferOptions,
  type Options,
  type Values,
} from './transfer-output.js';

export const exportCommand = {
  words: ['export'],
  summary:
    'write every original of an account, with manifest.jsonl, variants.json and keys.json, to a directory',
  synopsis: '--from URL --account ID --token T <directory>',
  details: [
    '  --from URL               base URL ending in /client/v4',
    '  --account ID, --token T  the account and an Images Read token',
    '  <directory>              where the export goes (created; a killed export resumes from its state file inside)',
    transferDetails,
  ].join('\n'),
  positionals: true,
  options: {
    from: { type: 'string' },
    account: { type: 'string' },
    token: { type: 'string' },
    ...transferOptions,
  } satisfies Options as Options,
  async run({ values, positionals }: { values: Values; positionals: string[] }): Promise<number> {
    if (positionals.length !== 1) throw new FlagError('give exactly one directory to export into');
    const dir = resolve(positionals[0]!);
    const from = new ImagesApi(
      baseUrl(values, 'from'),
      str(values, 'account', true)!,
      str(values, 'token', true)!,
      http(values),
    );
    const state = str(values, 'state');
    const report = await exportAccount({
      from,
      dir,
      concurrency: concurrency(values),
      dryRun: values['dry-run'] === true,
      ...(state ? { state: resolve(state) } : {}),
      progress: progress(values, 'export'),
    });
    printReport('export', report, values.json === true);
    return report.failed.length + report.failedNotListed > 0 ? 1 : 0;
  },
};
