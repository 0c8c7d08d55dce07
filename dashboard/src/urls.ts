/** Delivery URLs from an Image's variant list: which variant is which, thumbnails, flexible options. */
import type { Image, Variant } from './api';

/** The variant name that ends a delivery URL. */
export function variantName(url: string): string {
  return decodeURIComponent(url.slice(url.lastIndexOf('/') + 1));
}

/** The same delivery URL with another last segment (a variant name or flexible options). */
export function withVariant(url: string, variant: string): string {
  return `${url.slice(0, url.lastIndexOf('/') + 1)}${variant}`;
}

/** The smallest named variant (by width × height; unbounded sides count as large). */
export function smallestVariant(variants: Variant[]): Variant | undefined {
  const area = (v: Variant) => (v.options.width ?? 10_000) * (v.options.height ?? 10_000);
  return [...variants].sort((a, b) => area(a) - area(b))[0];
}

/**
 * The thumbnail URL of an image (unsigned): flexible `w=…` when flexible variants are on, else the
 * smallest variant the account has. Flexible variants never serve images that require signed URLs
 * (Cloudflare's rule), so those always take the smallest named variant, signed.
 */
export function thumbnailUrl(
  image: Image,
  opts: { flexible: boolean; smallest: string | undefined; size: number },
): string | undefined {
  const first = image.variants[0];
  if (!first) return undefined;
  if (opts.flexible && !image.requireSignedURLs)
    return withVariant(first, `w=${opts.size},h=${opts.size},fit=cover`);
  const named = image.variants.find((u) => variantName(u) === opts.smallest);
  return named ?? first;
}

/** Flexible options that reproduce a variant form's values, for a preview before saving. */
export function flexibleOptions(o: {
  width?: number;
  height?: number;
  fit: string;
  metadata: string;
}): string {
  const parts: string[] = [];
  if (o.width) parts.push(`w=${o.width}`);
  if (o.height) parts.push(`h=${o.height}`);
  parts.push(`fit=${o.fit}`, `metadata=${o.metadata}`);
  return parts.join(',');
}
