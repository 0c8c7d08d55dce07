/**
 * Signed delivery URLs (digest §6): `sig` is the lowercase hex HMAC-SHA256, keyed with the raw UTF-8
 * bytes of a signing key's value, over `<path>?exp=<exp>`. Any key of the account verifies; the
 * comparison is constant-time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signs a path and expiry.
 * @example sign('/hash/id/public?exp=1631289275', 'Oix0bbNaT8Rge9PuyxUBrjI6zrgnsyJ5=')
 */
export function sign(stringToSign: string, key: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(stringToSign, 'utf8').digest('hex');
}

/** The string to sign for a path and query (the query without `sig`, in its original order). */
export function stringToSign(path: string, query: string): string {
  return query ? `${path}?${query}` : path;
}

/** Removes `sig` from a raw query string, keeping every other parameter in its order and encoding. */
export function queryWithoutSig(rawQuery: string): { query: string; sig: string | undefined } {
  let sig: string | undefined;
  const kept: string[] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    if (part.startsWith('sig=')) sig = part.slice(4);
    else kept.push(part);
  }
  return { query: kept.join('&'), sig };
}

export type Verdict = 'ok' | 'missing' | 'expired' | 'bad-signature' | 'bad-expiry';

/**
 * Checks a request's signature against every key. `paths` lists the path forms the signer may have
 * used (the bare imagedelivery.net form and the /cdn-cgi/imagedelivery form).
 * @example verify(['/h/id/public'], 'exp=1631289275&sig=…', ['key'], nowSeconds)
 */
export function verify(paths: string[], rawQuery: string, keys: string[], nowSeconds: number): Verdict {
  const { query, sig } = queryWithoutSig(rawQuery);
  if (sig === undefined) return 'missing';
  if (!/^[0-9a-f]{64}$/.test(sig)) return 'bad-signature';
  const exp = new URLSearchParams(query).get('exp');
  if (exp !== null) {
    if (!/^\d{1,12}$/.test(exp)) return 'bad-expiry';
    if (Number(exp) < nowSeconds) return 'expired';
  }
  const given = Buffer.from(sig, 'hex');
  let matched = false;
  for (const key of keys) {
    for (const path of paths) {
      const expected = Buffer.from(sign(stringToSign(path, query), key), 'hex');
      // No early exit: every key and path is compared, so timing does not reveal which one matched.
      if (timingSafeEqual(expected, given)) matched = true;
    }
  }
  return matched ? 'ok' : 'bad-signature';
}

/** The `exp` of a query, if any, in seconds. */
export function expiryOf(rawQuery: string): number | undefined {
  const exp = new URLSearchParams(queryWithoutSig(rawQuery).query).get('exp');
  return exp !== null && /^\d{1,12}$/.test(exp) ? Number(exp) : undefined;
}
