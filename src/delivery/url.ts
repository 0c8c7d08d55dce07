/**
 * Delivery URL grammar (digest §5.1): `/<account_hash>/<image_id>/<variant_or_options>`, behind
 * `/cdn-cgi/imagedelivery` on the main port. Custom ids contain `/`: the last segment is the variant
 * or option list, the first the account hash, everything between is the id.
 */
export const CDN_PREFIX = '/cdn-cgi/imagedelivery';

export interface DeliveryPath {
  accountHash: string;
  imageId: string;
  /** The variant name or the still-encoded option list. */
  last: string;
  /** The path as requested (still encoded). */
  rawPath: string;
  /** The bare imagedelivery.net form of the path (what signers sign). */
  barePath: string;
  rawQuery: string;
}

const HASH_RE = /^[A-Za-z0-9_-]{22}$/;

/**
 * Parses a request URL; null when it is not a well-formed delivery URL.
 * @example parseDeliveryUrl('/cdn-cgi/imagedelivery/Vi7wi5KSItxGFsWRG2Us6Q/a/b.png/public')
 */
export function parseDeliveryUrl(url: string): DeliveryPath | null {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const rawQuery = q === -1 ? '' : url.slice(q + 1);
  const barePath = rawPath.startsWith(`${CDN_PREFIX}/`) ? rawPath.slice(CDN_PREFIX.length) : rawPath;
  const segments = barePath.split('/').slice(1);
  if (segments.length < 3) return null;
  const accountHash = segments[0]!;
  const last = segments[segments.length - 1]!;
  const idSegments = segments.slice(1, -1);
  if (!HASH_RE.test(accountHash) || last === '' || idSegments.some((s) => s === '')) return null;
  let imageId: string;
  try {
    imageId = idSegments.map(decodeURIComponent).join('/');
  } catch {
    return null;
  }
  return { accountHash, imageId, last, rawPath, barePath, rawQuery };
}
