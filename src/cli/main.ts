#!/usr/bin/env node
/**
 * The `pictor` command: `serve` (default), `account create`, `token create`.
 * Argument parsing is a few lines of node:util parseArgs; no framework needed for three commands.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/index.js';
import type { Permission } from '../core/types.js';
import { compose } from '../server/compose.js';
import { serveForever } from '../server/main.js';
import { collectGarbage } from '../services/gc.js';
import { systemClock } from '../core/clock.js';
import { migrate } from './commands/migrate.js';
import { importCommand } from './commands/import.js';
import { exportCommand } from './commands/export.js';
import { accountList, tokenList, tokenRevoke } from './commands/credentials.js';
import { FlagError } from './commands/transfer-output.js';

/** Commands in their own files (commands/<name>.ts), each with its own flags. */
const fileCommands = [migrate, importCommand, exportCommand, accountList, tokenList, tokenRevoke];

const USAGE = `usage:
  pictor serve                                   serve the API (default)
  pictor account create [--allowance N] [--hash H]  create an account (with a given 22-character hash: Pictor extension), print its id, hash and a write token
  pictor account list                            list the accounts
  pictor token list --account ID                 list an account's tokens (ids, permissions, creation time; never secrets)
  pictor token revoke <token id>                 revoke a token; a running server refuses it at once
  pictor migrate | import | export --help        move images between accounts, from directories and S3, to a directory
  pictor token create --account ID [--read-only] issue an API token for an account
  pictor gc [--grace-seconds N]                  delete original blobs no image references (older than N s, default 3600)
`;

async function main(argv: string[]): Promise<void> {
  const own = fileCommands.find((c) => c.words.every((w, i) => argv[i] === w));
  if (own) {
    const { values, positionals } = parseArgs({ args: argv.slice(own.words.length), options: own.options, strict: true, allowPositionals: true });
    try {
      process.exitCode = await own.run({ values, positionals });
    } catch (e) {
      if (!(e instanceof FlagError)) throw e;
      process.stderr.write(`pictor: ${e.message}\n`);
      process.exitCode = 2;
    }
    return;
  }
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      account: { type: 'string' },
      allowance: { type: 'string' },
      hash: { type: 'string' },
      'read-only': { type: 'boolean', default: false },
      'grace-seconds': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const [cmd = 'serve', sub] = positionals;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (cmd === 'serve') return serveForever();
  const config = loadConfig();
  const c = await compose(config);
  try {
    if (cmd === 'account' && sub === 'create') {
      const allowance = values.allowance === undefined ? undefined : Number(values.allowance);
      if (allowance !== undefined && (!Number.isInteger(allowance) || allowance < 0)) throw new ConfigError('--allowance takes a whole number');
      const account = await c.api.accounts.create({ ...(allowance === undefined ? {} : { allowance }), ...(values.hash === undefined ? {} : { hash: values.hash }) });
      const { token } = await c.api.accounts.issueToken({ accountIds: [account.id], permissions: ['read', 'write'] });
      process.stdout.write(`${JSON.stringify({ accountId: account.id, accountHash: account.hash, token }, null, 2)}\n`);
    } else if (cmd === 'token' && sub === 'create') {
      if (!values.account || !(await c.api.accounts.get(values.account))) throw new ConfigError('--account must name an existing account');
      const permissions: Permission[] = values['read-only'] ? ['read'] : ['read', 'write'];
      const { token } = await c.api.accounts.issueToken({ accountIds: [values.account], permissions });
      process.stdout.write(`${JSON.stringify({ token, permissions }, null, 2)}\n`);
    } else if (cmd === 'gc') {
      const grace = values['grace-seconds'] === undefined ? 3600 : Number(values['grace-seconds']);
      if (!Number.isInteger(grace) || grace < 0) throw new ConfigError('--grace-seconds takes a whole number');
      const result = await collectGarbage({ store: c.store, blobs: c.blobs, clock: systemClock }, grace * 1000);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stderr.write(USAGE);
      process.exitCode = 2;
    }
  } finally {
    await c.close();
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`pictor: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof ConfigError ? 2 : 1);
});
