/**
 * The limits Cloudflare documents and Pictor enforces, in one place (digest §4.1, §5, §7). Checks and
 * error messages are built from these constants, so a limit is changed here and nowhere else.
 */

/** Longest side of an uploaded, delivered or produced image, in pixels. */
export const MAX_SIDE = 12_000;

/** Largest area of an image (all frames of an animation together), in pixels. */
export const MAX_PIXELS = 100_000_000;

/** Largest upload, in bytes (Cloudflare: 10 MB); `PICTOR_MAX_UPLOAD_BYTES` defaults to it. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

/** Ceiling for `PICTOR_MAX_UPLOAD_BYTES`. */
export const MAX_UPLOAD_BYTES_CEILING = 100 * 1024 * 1024;

/** Largest source a transformation URL fetches (Cloudflare: 100 MB); `PICTOR_TRANSFORM_MAX_BYTES` defaults to it. */
export const MAX_TRANSFORM_SOURCE_BYTES = 100 * 1024 * 1024;

/** Largest SVG the sanitiser reads, in bytes: the default upload limit, stated apart so the two can differ. */
export const MAX_SVG_BYTES = 10 * 1024 * 1024;

/** User metadata, serialised as JSON, in UTF-8 bytes. */
export const MAX_METADATA_BYTES = 1024;

/** Length of a custom image id, in characters. */
export const MAX_CUSTOM_ID_LENGTH = 1024;

/** Length of an image's `creator`, in characters. */
export const MAX_CREATOR_LENGTH = 1024;

/** Variants an account may define by default (Cloudflare: 100); `PICTOR_MAX_VARIANTS` defaults to it. */
export const MAX_VARIANTS = 100;

/** Mebibytes, for the limits above written in MB. */
export function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
}

/**
 * The dimension limits as a sentence.
 * @example dimensionLimits() // 'at most 12000 px a side and 100 million pixels'
 */
export function dimensionLimits(): string {
  return `at most ${MAX_SIDE} px a side and ${MAX_PIXELS / 1_000_000} million pixels`;
}

/**
 * Whether an image of this size (one frame) and frame count exceeds the dimension limits.
 * @example exceedsDimensions(12001, 10, 1) // true
 */
export function exceedsDimensions(width: number, height: number, frames = 1): boolean {
  return width > MAX_SIDE || height > MAX_SIDE || width * height * frames > MAX_PIXELS;
}
