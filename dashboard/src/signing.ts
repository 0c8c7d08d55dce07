/**
 * Signed delivery URLs, made in the browser the way a Cloudflare user's own code makes them:
 * `sig` = lowercase hex HMAC-SHA256, keyed with the UTF-8 bytes of a signing key's value, over
 * `<path>?exp=<exp>` (src/security/signing.ts verifies the same string). WebCrypto needs a secure
 * context (https, or http on 127.0.0.1 / localhost).
 */
const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(value: string): Promise<CryptoKey> {
  let key = keyCache.get(value);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(value), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    keyCache.set(value, key);
  }
  return key;
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Appends `exp` and `sig` to a delivery URL; `exp` in seconds since the epoch. */
export async function signUrl(url: string, keyValue: string, exp: number): Promise<string> {
  if (!crypto.subtle)
    throw new Error('Signing needs a secure context: open the dashboard over https or on 127.0.0.1');
  const u = new URL(url);
  const toSign = `${u.pathname}?exp=${exp}`;
  const sig = hex(await crypto.subtle.sign('HMAC', await hmacKey(keyValue), encoder.encode(toSign)));
  return `${u.origin}${u.pathname}?exp=${exp}&sig=${sig}`;
}

/** An expiry at least `minSeconds` away, rounded up to the hour so thumbnails stay cacheable. */
export function roundedExpiry(nowMs: number, minSeconds = 3600): number {
  return Math.ceil((nowMs / 1000 + minSeconds) / 3600) * 3600;
}
