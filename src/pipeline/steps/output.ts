/**
 * Output: format, quality, progressive JPEG (Cloudflare: baseline below 50×50 or above 3000×3000),
 * animation, the encoder effort, flattening transparency for JPEG, and the metadata mode.
 */
import type { PlanContext, TransformPlan } from '../plan.js';

/**
 * AVIF effort 1 of 0..9. Measured here on a photo-like 1366×768 output, one libvips thread: WebP q85
 * effort 4 93 ms; AVIF effort 4 (sharp's default) 2076 ms (22×), effort 2 176 ms, effort 1 58 ms at
 * 60 KiB against 58 KiB for effort 4. Effort 1 makes the first AVIF request cheaper than a WebP one
 * for 3% more bytes (docs/delivery.md; `npx tsx bench/avif-effort.ts` repeats the measurement).
 */
export const AVIF_EFFORT = 1;
export const WEBP_EFFORT = 4;

const WHITE = { r: 255, g: 255, b: 255 };

/** Formats whose files carry EXIF here (Cloudflare: WebP and PNG output always discard it, digest §5.4). */
const EXIF_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'avif']);

/** Cloudflare's metadata modes as what is written: EXIF and the colour profile (a reviewable table). */
const METADATA: Record<TransformPlan['metadata'], { exif: TransformPlan['exif']; keepIcc: boolean }> = {
  keep: { exif: 'all', keepIcc: true },
  copyright: { exif: 'copyright', keepIcc: false },
  none: { exif: 'none', keepIcc: false },
};

export function output(ctx: PlanContext): void {
  const { options, source, format } = ctx;
  const animated = source.pages > 1 && options.anim && (format === 'gif' || format === 'webp');
  const big = ctx.width > 3000 || ctx.height > 3000;
  const small = ctx.width < 50 || ctx.height < 50;
  ctx.plan.output = {
    format,
    quality: options.quality,
    progressive: format === 'jpeg' && !big && !small && options.format !== 'baseline-jpeg',
    animated,
    ...(format === 'avif' ? { effort: AVIF_EFFORT } : format === 'webp' ? { effort: WEBP_EFFORT } : {}),
  };
  if (format === 'jpeg' && source.hasAlpha) {
    const bg = options.background;
    ctx.plan.flatten = bg ? { r: bg.r, g: bg.g, b: bg.b } : WHITE;
  }
  ctx.plan.metadata = options.metadata;
  const m = METADATA[options.metadata];
  ctx.plan.exif = EXIF_FORMATS.has(format) ? m.exif : 'none';
  ctx.plan.keepIcc = m.keepIcc;
}
