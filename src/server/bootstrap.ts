/**
 * First-start bootstrap: make sure the configured (or a generated) account and write token exist.
 * Generated credentials are kept in `<dataDir>/credentials.json` (mode 0600) so they survive restarts
 * and can be printed again; the database itself stores only the token's hash.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import type { Account } from '../core/types.js';
import type { AccountsService } from '../services/accounts.js';

export interface Bootstrapped {
  account: Account;
  token: string;
  /** True when this start created the account. */
  created: boolean;
  /** True when this start generated the token (not from PICTOR_API_TOKEN nor credentials.json). */
  tokenCreated: boolean;
}

interface Saved {
  accountId: string;
  token: string;
}

export async function bootstrap(config: Config, accounts: AccountsService): Promise<Bootstrapped> {
  const file = join(config.dataDir, 'credentials.json');
  const saved: Saved | undefined = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Saved)
    : undefined;
  const accountId = config.accountId ?? saved?.accountId;
  let created = false;
  let account = accountId ? await accounts.get(accountId) : null;
  if (!account) {
    try {
      account = await accounts.create({
        ...(accountId ? { id: accountId } : {}),
        ...(config.accountHash ? { hash: config.accountHash } : {}),
      });
      created = true;
    } catch (e) {
      // Another node bootstrapped the same configured account at the same moment.
      account = accountId ? await accounts.get(accountId) : null;
      if (!account) throw e;
    }
  }
  const wanted = config.apiToken ?? (saved && saved.accountId === account.id ? saved.token : undefined);
  const issued = await accounts.issueToken({
    accountIds: [account.id],
    permissions: ['read', 'write'],
    label: 'bootstrap write token',
    ...(wanted ? { token: wanted } : {}),
  });
  if (config.authEmail && config.authKey) {
    await accounts.registerGlobalKey({
      email: config.authEmail,
      key: config.authKey,
      accountIds: [account.id],
    });
  }
  if (!config.apiToken && (!saved || saved.accountId !== account.id || saved.token !== issued.token)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify({ accountId: account.id, token: issued.token }, null, 2)}\n`, {
      mode: 0o600,
    });
  }
  return { account, token: issued.token, created, tokenCreated: wanted === undefined };
}
