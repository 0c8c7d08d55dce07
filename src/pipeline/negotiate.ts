/**
 * Format negotiation (digest §5.5): AVIF when the client accepts it, else WebP, else the source's own
 * format (PNG, JPEG, GIF). An explicit `format` option wins. Animations never become AVIF (sharp cannot
 * encode animated AVIF): they stay WebP or GIF.
 */
import type { OutputFormat } from '../transform/options.js';
import type { RasterFormat, SourceInfo } from './plan.js';

/** What an Accept header allows, by substring as Cloudflare's reference logic does. */
export function accepts(accept: string | undefined): { avif: boolean; webp: boolean } {
  const a = (accept ?? '').toLowerCase();
  return { avif: a.includes('image/avif'), webp: a.includes('image/webp') };
}

/** The format a source falls back to when the client takes neither AVIF nor WebP. */
function fallback(source: SourceInfo, animated: boolean): RasterFormat {
  if (animated) return 'gif';
  if (source.format === 'png' || source.format === 'gif') return source.format;
  if (source.format === 'jpeg') return 'jpeg';
  return source.hasAlpha ? 'png' : 'jpeg';
}

/**
 * Picks the output format.
 * @example negotiate('image/avif,image/webp,*\/*', 'auto', source, true) // 'avif'
 */
export function negotiate(
  accept: string | undefined,
  requested: OutputFormat,
  source: SourceInfo,
  keepAnimation: boolean,
): RasterFormat {
  const animated = keepAnimation && source.pages > 1;
  if (requested === 'baseline-jpeg') return 'jpeg';
  if (requested !== 'auto' && requested !== 'json') {
    if (requested === 'avif' && animated) return 'webp';
    return requested;
  }
  const ok = accepts(accept);
  if (ok.avif && !animated) return 'avif';
  if (ok.webp) return 'webp';
  return fallback(source, animated);
}
