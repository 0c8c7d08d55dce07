/** Signing-key use cases: list, add (idempotent) and delete (the last one is replaced by `default`). */
import { appError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { invalid } from '../core/check.js';
import { newSigningKeyValue } from '../core/ids.js';
import type { SigningKey } from '../core/types.js';
import type { MetadataStore } from '../storage/types.js';

/** Key names: 1..20 ASCII letters and digits (the spec's pattern, with its missing quantifier). */
export const KEY_NAME_RE = /^[a-zA-Z0-9]{1,20}$/;
/** A given key value: 16..256 printable ASCII characters (Cloudflare's are 43-character base64). */
export const KEY_VALUE_RE = /^[\x21-\x7e]{16,256}$/;

export interface KeysDeps {
  store: MetadataStore;
  clock: Clock;
}

export class KeysService {
  constructor(private readonly deps: KeysDeps) {}

  list(accountId: string): Promise<SigningKey[]> {
    return this.deps.store.listKeys(accountId);
  }

  /**
   * Adds a key with a fresh random value unless one with that name exists; returns all keys. With a
   * `value` (Pictor extension, for migrations) the key gets exactly that value, replacing an existing one.
   */
  async put(accountId: string, name: string, value?: string): Promise<SigningKey[]> {
    checkName(name);
    if (value !== undefined && !KEY_VALUE_RE.test(value)) {
      throw appError('badRequest', invalid('value', '16 to 256 printable ASCII characters', value));
    }
    await this.deps.store.putKey(
      { accountId, name, value: value ?? newSigningKeyValue(), createdAt: this.deps.clock.now() },
      { replaceValue: value !== undefined },
    );
    return this.list(accountId);
  }

  /** Deletes a key; deleting the last one creates a new `default`. Returns all keys. */
  async delete(accountId: string, name: string): Promise<SigningKey[]> {
    checkName(name);
    const replacement = {
      accountId,
      name: 'default',
      value: newSigningKeyValue(),
      createdAt: this.deps.clock.now(),
    };
    const gone = await this.deps.store.deleteKey(accountId, name, replacement);
    if (!gone) throw appError('keyNotFound', `Signing key ${name} not found.`);
    return this.list(accountId);
  }
}

function checkName(name: string): void {
  if (!KEY_NAME_RE.test(name))
    throw appError('badRequest', invalid('signing_key_name', '1 to 20 letters or digits', name));
}
