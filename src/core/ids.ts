import { randomBytes, randomUUID, createHash } from 'node:crypto';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a string is UUID-shaped (any version nibble, either case). */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/**
 * A new image id, UUID-shaped like Cloudflare's (which end in `00`).
 * @example newImageId() // '2cdc28f0-017a-49c4-9ed7-87056c83901e'-like
 */
export function newImageId(): string {
  return randomUUID();
}

/** A 32-hex account id. */
export function newAccountId(): string {
  return randomBytes(16).toString('hex');
}

/** A 22-character base64url account hash (16 random bytes). */
export function newAccountHash(): string {
  return randomBytes(16).toString('base64url');
}

/** A 40-character API token, the same shape as Cloudflare's. */
export function newApiToken(): string {
  return randomBytes(30).toString('base64url');
}

/** A signing key value: 32 random bytes in base64, like the spec example `Oix0…5=`. */
export function newSigningKeyValue(): string {
  return randomBytes(32).toString('base64url');
}

/** An unguessable blob key. */
export function newBlobKey(): string {
  return randomBytes(18).toString('base64url');
}

/** SHA-256 hex of a secret, for storing tokens that never need to be shown again. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
