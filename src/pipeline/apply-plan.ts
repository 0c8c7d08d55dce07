/**
 * applyPlan(): the one place that turns a TransformPlan into sharp calls. sharp records options and
 * runs once, in its own order: autoOrient → flip/flop → rotate → extract (trim) → resize → extract
 * (after) → effects → output. `rotate` is called before `extract` so that sharp turns first (its
 * `rotateBefore`); the plan's trim region is already expressed in the turned frame.
 */
import sharp, { type Sharp } from 'sharp';
import { MAX_PIXELS } from '../core/limits.js';
import { isMaster, type Master } from './master.js';
import type { TransformPlan } from './plan.js';

export interface ApplyOptions {
  /** Copyright string to keep for `metadata: copyright` (read from the source's EXIF). */
  copyright?: string | undefined;
  /** Seconds before sharp aborts the job. */
  timeoutSeconds: number;
}

/**
 * `input` is the encoded source, or its intermediate master (master.ts: raw pixels, already upright
 * and sRGB, so nothing to orient or decode); the plan is the same numbers for both.
 */
export function applyPlan(input: Buffer | Master, plan: TransformPlan, opts: ApplyOptions): Sharp {
  let img = isMaster(input)
    ? sharp(input.pixels, {
        raw: { width: input.width, height: input.height, channels: input.channels },
        limitInputPixels: MAX_PIXELS,
      })
    : sharp(input, {
        animated: plan.output.animated,
        limitInputPixels: MAX_PIXELS,
        failOn: 'error',
      }).autoOrient();
  if (plan.rotate) img = img.rotate(plan.rotate);
  if (plan.flip) img = img.flip();
  if (plan.flop) img = img.flop();
  if (plan.trim) img = img.extract(plan.trim);
  if (plan.resize) {
    img = img.resize({
      width: plan.resize.width,
      height: plan.resize.height,
      fit: plan.resize.fit,
      ...(plan.resize.position
        ? { position: plan.resize.position === 'attention' ? sharp.strategy.attention : plan.resize.position }
        : {}),
      ...(plan.resize.background ? { background: plan.resize.background } : {}),
    });
  }
  if (plan.extractAfter) img = img.extract(plan.extractAfter);
  if (plan.blur) img = img.blur(plan.blur);
  if (plan.sharpen) img = img.sharpen(plan.sharpen);
  if (plan.modulate) img = img.modulate(plan.modulate);
  if (plan.linear) img = img.linear(plan.linear.a, plan.linear.b);
  if (plan.gamma) img = img.gamma(plan.gamma.in, plan.gamma.out);
  if (plan.flatten) img = img.flatten({ background: plan.flatten });
  img = withMetadata(img, plan, opts.copyright);
  img = encode(img, plan.output);
  return img.timeout({ seconds: opts.timeoutSeconds });
}

/**
 * metadata keep / copyright / none (digest §5.4), as planned by steps/output.ts: EXIF all, only the
 * copyright, or none; the ICC profile kept for `keep`, else pixels converted to sRGB (sharp's
 * default) with no profile. Orientation is always applied.
 */
function withMetadata(img: Sharp, plan: TransformPlan, copyright: string | undefined): Sharp {
  if (plan.keepIcc) img = img.keepIccProfile();
  if (plan.exif === 'all') return img.keepExif();
  if (plan.exif === 'copyright' && copyright) return img.withExif({ IFD0: { Copyright: copyright } });
  return img;
}

function encode(img: Sharp, out: TransformPlan['output']): Sharp {
  switch (out.format) {
    case 'jpeg':
      return img.jpeg({ quality: out.quality, progressive: out.progressive, mozjpeg: false });
    case 'png':
      return img.png({ compressionLevel: 6, adaptiveFiltering: false });
    case 'webp':
      return img.webp({ quality: out.quality, effort: out.effort ?? 4 });
    case 'avif':
      return img.avif({ quality: Math.max(1, out.quality - 25), effort: out.effort ?? 4 });
    case 'gif':
      return img.gif({ effort: 4 });
  }
}
