/**
 * Accounts and API credentials: creating an account with its seed (`public` variant, `default`
 * signing key), issuing tokens and global keys (stored hashed), and the first-start bootstrap.
 */
import type { Clock } from '../core/clock.js';
import { appError } from '../core/errors.js';
import { invalid } from '../core/check.js';
import { hashSecret, newAccountHash, newAccountId, newApiToken, newSigningKeyValue } from '../core/ids.js';
import type { Account, ApiCredential, Permission, VariantRecord } from '../core/types.js';
import type { MetadataStore } from '../storage/types.js';

/** The `public` variant every account starts with (Cloudflare's default delivery size). */
export const PUBLIC_VARIANT_OPTIONS = {
  fit: 'scale-down',
  width: 1366,
  height: 768,
  metadata: 'none',
} as const;
export const DEFAULT_BROWSER_TTL = 172_800;
/** Batch tokens live one hour (Cloudflare's lifetime is not documented). */
export const BATCH_TOKEN_TTL_MS = 3600_000;

export interface AccountsDeps {
  store: MetadataStore;
  clock: Clock;
  /** Allowance given to new accounts. */
  imageAllowance: number;
  /** Called after account settings change (delivery drops memoised resolutions). */
  onChange?: (accountId: string) => void;
}

/** A 22-character base64url account hash, the shape delivery URLs carry. */
export const ACCOUNT_HASH_RE = /^[A-Za-z0-9_-]{22}$/;

/** What `token list` shows of a credential: never the secret. */
export interface TokenInfo {
  /** A stable id: the first 32 hex characters of the token's SHA-256 (not a secret). */
  id: string;
  kind: ApiCredential['kind'];
  label: string;
  permissions: Permission[];
  accountIds: string[];
  createdAt: number;
  expiresAt: number | null;
}

/** The id `token list` and `token revoke` use for a credential. */
export function tokenId(c: ApiCredential): string {
  return c.secretHash.slice(0, 32);
}

export interface IssuedToken {
  token: string;
  credential: ApiCredential;
}

export class AccountsService {
  constructor(private readonly deps: AccountsDeps) {}

  /**
   * Creates an account with a `public` variant and a `default` signing key.
   * @example const account = await accounts.create();
   */
  async create(opts: { id?: string; allowance?: number; hash?: string } = {}): Promise<Account> {
    const now = this.deps.clock.now();
    // A given hash (Pictor extension) keeps delivery URLs of a migrated account working.
    if (opts.hash !== undefined) {
      if (!ACCOUNT_HASH_RE.test(opts.hash))
        throw appError('badRequest', invalid('account hash', '22 characters of A-Z a-z 0-9 _ -', opts.hash));
      if (await this.deps.store.getAccountByHash(opts.hash))
        throw appError('badRequest', `An account with hash ${opts.hash} already exists`);
    }
    const account: Account = {
      id: opts.id ?? newAccountId(),
      hash: opts.hash ?? newAccountHash(),
      allowance: opts.allowance ?? this.deps.imageAllowance,
      flexibleVariants: false,
      browserTtl: DEFAULT_BROWSER_TTL,
      createdAt: now,
    };
    const publicVariant: VariantRecord = {
      accountId: account.id,
      id: 'public',
      options: { ...PUBLIC_VARIANT_OPTIONS },
      neverRequireSignedURLs: false,
      version: 1,
      createdAt: now,
    };
    await this.deps.store.createAccount(account, {
      variants: [publicVariant],
      keys: [{ accountId: account.id, name: 'default', value: newSigningKeyValue(), createdAt: now }],
    });
    return account;
  }

  get(id: string): Promise<Account | null> {
    return this.deps.store.getAccount(id);
  }

  getByHash(hash: string): Promise<Account | null> {
    return this.deps.store.getAccountByHash(hash);
  }

  list(): Promise<Account[]> {
    return this.deps.store.listAccounts();
  }

  /**
   * Issues an API token (or registers a known one) for some accounts; only its hash is stored.
   * @example const { token } = await accounts.issueToken({ accountIds: [id], permissions: ['read', 'write'] });
   */
  async issueToken(opts: {
    accountIds: string[];
    permissions: Permission[];
    label?: string;
    token?: string;
  }): Promise<IssuedToken> {
    const token = opts.token ?? newApiToken();
    const credential: ApiCredential = {
      secretHash: hashSecret(token),
      kind: 'token',
      email: null,
      permissions: opts.permissions,
      accountIds: opts.accountIds,
      label: opts.label ?? 'token',
      createdAt: this.deps.clock.now(),
      expiresAt: null,
    };
    // A given token that is already stored as asked (the bootstrap token on every restart) is not
    // written again: a start on a full disk must not need a write.
    const existing = await this.unchanged(credential);
    if (existing) return { token, credential: existing };
    await this.deps.store.putCredential(credential);
    return { token, credential };
  }

  /** API tokens and global keys that may touch an account (batch tokens excluded), without secrets. */
  async listTokens(accountId: string): Promise<TokenInfo[]> {
    const all = await this.deps.store.listCredentials();
    return all
      .filter((c) => c.kind !== 'batch' && c.accountIds.includes(accountId))
      .map((c) => ({
        id: tokenId(c),
        kind: c.kind,
        label: c.label,
        permissions: c.permissions,
        accountIds: c.accountIds,
        createdAt: c.createdAt,
        expiresAt: c.expiresAt,
      }));
  }

  /**
   * Deletes the credential with this id. Every API request looks its credential up in the store (no
   * cache), so a running server refuses the token from its next request on.
   */
  async revokeToken(id: string): Promise<TokenInfo | null> {
    if (!/^[0-9a-f]{32}$/.test(id))
      throw appError('badRequest', invalid('token id', '32 lowercase hex characters', id));
    const found = (await this.deps.store.listCredentials()).find((c) => tokenId(c) === id);
    if (!found) return null;
    await this.deps.store.deleteCredential(found.secretHash);
    const { secretHash: _secret, email: _email, ...rest } = found;
    return { id, ...rest };
  }

  /** Registers an X-Auth-Email / X-Auth-Key pair with write access to some accounts. */
  async registerGlobalKey(opts: { email: string; key: string; accountIds: string[] }): Promise<void> {
    const credential: ApiCredential = {
      secretHash: hashSecret(`${opts.email.toLowerCase()}\n${opts.key}`),
      kind: 'global',
      email: opts.email.toLowerCase(),
      permissions: ['read', 'write'],
      accountIds: opts.accountIds,
      label: `global key of ${opts.email}`,
      createdAt: this.deps.clock.now(),
      expiresAt: null,
    };
    if (await this.unchanged(credential)) return;
    await this.deps.store.putCredential(credential);
  }

  /** The stored credential with this secret when it already says everything `c` says (bar its creation time). */
  private async unchanged(c: ApiCredential): Promise<ApiCredential | null> {
    const stored = await this.deps.store.findCredential(c.secretHash);
    if (!stored) return null;
    const same =
      stored.kind === c.kind &&
      stored.email === c.email &&
      stored.label === c.label &&
      stored.expiresAt === c.expiresAt &&
      JSON.stringify(stored.permissions) === JSON.stringify(c.permissions) &&
      JSON.stringify(stored.accountIds) === JSON.stringify(c.accountIds);
    return same ? stored : null;
  }

  /**
   * Issues a batch token for one account (digest §2.13): write access to the image operations of the
   * batch API, valid for `BATCH_TOKEN_TTL_MS`.
   */
  async issueBatchToken(accountId: string): Promise<{ token: string; expiresAt: number }> {
    const token = newApiToken();
    const now = this.deps.clock.now();
    const expiresAt = now + BATCH_TOKEN_TTL_MS;
    await this.deps.store.putCredential({
      secretHash: hashSecret(token),
      kind: 'batch',
      email: null,
      permissions: ['read', 'write'],
      accountIds: [accountId],
      label: 'batch token',
      createdAt: now,
      expiresAt,
    });
    return { token, expiresAt };
  }

  /** Whether a credential has expired. */
  expired(c: ApiCredential): boolean {
    return c.expiresAt !== null && c.expiresAt <= this.deps.clock.now();
  }

  /** Looks a bearer token up by its hash. */
  findToken(token: string): Promise<ApiCredential | null> {
    return this.deps.store.findCredential(hashSecret(token));
  }

  /** Looks a global key up by e-mail and key. */
  async findGlobalKey(email: string, key: string): Promise<ApiCredential | null> {
    const c = await this.deps.store.findCredential(hashSecret(`${email.toLowerCase()}\n${key}`));
    return c && c.kind === 'global' ? c : null;
  }

  /** Updates delivery settings (flexible variants, browser TTL). */
  async updateSettings(
    id: string,
    patch: { flexibleVariants?: boolean; browserTtl?: number },
  ): Promise<Account | null> {
    const updated = await this.deps.store.updateAccount(id, patch);
    this.deps.onChange?.(id);
    return updated;
  }
}
