/** The Image object as Cloudflare serialises it (digest §3). */
import type { Account, ImageRecord, VariantRecord } from '../core/types.js';

export interface ImageJson {
  id: string;
  filename: string | null;
  meta?: Record<string, unknown>;
  creator: string | null;
  requireSignedURLs: boolean;
  uploaded: string;
  variants: string[];
  draft?: true;
}

/**
 * Encodes an image id for a URL path: each `/`-separated segment percent-encoded, slashes kept, so
 * `a b/c%d` becomes `a%20b/c%25d` (Cloudflare: `%` travels as `%25`).
 * @example encodeImageIdPath('folder/my image.png') // 'folder/my%20image.png'
 */
export function encodeImageIdPath(id: string): string {
  return id.split('/').map(encodeURIComponent).join('/');
}

/** The delivery URL of one variant of an image. */
export function deliveryUrl(
  publicUrl: string,
  accountHash: string,
  imageId: string,
  variant: string,
): string {
  return `${publicUrl}/cdn-cgi/imagedelivery/${accountHash}/${encodeImageIdPath(imageId)}/${variant}`;
}

/**
 * Serialises an image for the API: one delivery URL per account variant, `meta` only when set,
 * `draft` only on drafts.
 */
export function toImageJson(
  image: ImageRecord,
  account: Account,
  variants: VariantRecord[],
  publicUrl: string,
): ImageJson {
  const out: ImageJson = {
    id: image.id,
    filename: image.filename,
    creator: image.creator,
    requireSignedURLs: image.requireSignedURLs,
    uploaded: new Date(image.uploaded).toISOString(),
    variants: variants.map((v) => deliveryUrl(publicUrl, account.hash, image.id, v.id)),
  };
  if (image.meta !== null) out.meta = image.meta;
  if (image.draft) out.draft = true;
  return out;
}
