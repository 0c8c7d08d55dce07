/**
 * `pictor account list`, `pictor token list --account ID`, `pictor token revoke <token id>`: run
 * against the configured database (the same settings as the server). Tokens are shown by id,
 * permissions and creation time, never their secrets. Every API request looks its credential up in
 * the store (services/accounts.ts, api/auth.ts: no cache), so a revoked token is refused by a running
 * server from its next request on.
 */
import { loadConfig } from '../../config/index.js';
import type { Composition } from '../../server/compose.js';
import { FlagError, str, type Options, type Values } from './transfer-output.js';

async function withStore<T>(fn: (c: Composition) => Promise<T>): Promise<T> {
  // Loaded on use: the composition pulls in sharp, the SQL drivers and the AWS SDK, which every other
  // command (and a failing `pictor serve`) would otherwise wait for.
  const { compose } = await import('../../server/compose.js');
  const c = await compose(loadConfig());
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

const print = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

export const accountList = {
  words: ['account', 'list'],
  summary: 'list the accounts: id, hash, allowance, creation time',
  synopsis: '',
  options: {} satisfies Options as Options,
  async run(): Promise<number> {
    await withStore(async (c) => {
      const accounts = await c.api.accounts.list();
      print(
        accounts.map((a) => ({
          id: a.id,
          hash: a.hash,
          allowance: a.allowance,
          createdAt: new Date(a.createdAt).toISOString(),
        })),
      );
    });
    return 0;
  },
};

export const tokenList = {
  words: ['token', 'list'],
  summary:
    'list the API tokens and global keys of an account: id, permissions, creation time (never the secret)',
  synopsis: '--account ID',
  options: { account: { type: 'string' } } satisfies Options as Options,
  async run({ values }: { values: Values; positionals?: string[] }): Promise<number> {
    const accountId = str(values, 'account', true)!;
    await withStore(async (c) => {
      if (!(await c.api.accounts.get(accountId)))
        throw new FlagError(`--account ${accountId}: no such account`);
      const tokens = await c.api.accounts.listTokens(accountId);
      print(
        tokens.map((t) => ({
          id: t.id,
          kind: t.kind,
          label: t.label,
          permissions: t.permissions,
          createdAt: new Date(t.createdAt).toISOString(),
          ...(t.expiresAt !== null ? { expiresAt: new Date(t.expiresAt).toISOString() } : {}),
        })),
      );
    });
    return 0;
  },
};

export const tokenRevoke = {
  words: ['token', 'revoke'],
  summary: 'revoke a token (by the id token list shows); a running server refuses it from its next request',
  synopsis: '<token id>',
  positionals: true,
  options: {} satisfies Options as Options,
  async run({ positionals }: { values: Values; positionals?: string[] }): Promise<number> {
    const id = positionals?.[0];
    if (!id || positionals!.length !== 1)
      throw new FlagError('give the id of one token (see pictor token list)');
    if (!/^[0-9a-f]{32}$/.test(id))
      throw new FlagError(`${id} is not a token id (32 lowercase hex characters, see pictor token list)`);
    return withStore(async (c) => {
      const revoked = await c.api.accounts.revokeToken(id);
      if (!revoked) {
        process.stderr.write(`pictor: no token has the id ${id}\n`);
        return 1;
      }
      print({ revoked: { id: revoked.id, label: revoked.label, permissions: revoked.permissions } });
      return 0;
    });
  },
};
