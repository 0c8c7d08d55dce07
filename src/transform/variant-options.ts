/**
 * Parses and validates stored variant definitions (the `options` object of the variants API) into
 * typed `VariantOptions`. Pure: no I/O, no sharp. Every failure is the one validation sentence.
 */
import { invalid, is } from '../core/check.js';
import { MAX_SIDE } from '../core/limits.js';
import { FITS, METADATA_MODES, type VariantOptions } from '../core/types.js';

/** Largest width or height a variant may ask for (the same bound as an upload's side). */
export const MAX_VARIANT_SIDE = MAX_SIDE;
/** Browser TTL bounds from Cloudflare's docs: 1 hour to 1 year. */
export const MIN_BROWSER_TTL = 3600;
export const MAX_BROWSER_TTL = 31_536_000;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

const KNOWN = new Set(['fit', 'metadata', 'width', 'height', 'browser_ttl']);

/**
 * Validates a variant `options` object. Missing `fit` defaults to `scale-down`, missing `metadata` to `copyright` (Cloudflare's default, digest §5.4);
 * unknown keys are refused so typos do not pass silently.
 * @example parseVariantOptions({ fit: 'cover', width: 100, height: 100 })
 */
export function parseVariantOptions(raw: unknown): ParseResult<VariantOptions> {
  if (!is.plainObject(raw)) return { ok: false, error: invalid('options', 'object', raw) };
  for (const key of Object.keys(raw)) {
    if (!KNOWN.has(key))
      return {
        ok: false,
        error: invalid(`options.${key}`, 'one of fit, metadata, width, height, browser_ttl', key),
      };
  }
  const fit = raw.fit ?? 'scale-down';
  if (!is.oneOf(fit, FITS)) return { ok: false, error: invalid('fit', `one of ${FITS.join(', ')}`, fit) };
  const metadata = raw.metadata ?? 'copyright';
  if (!is.oneOf(metadata, METADATA_MODES)) {
    return { ok: false, error: invalid('metadata', `one of ${METADATA_MODES.join(', ')}`, metadata) };
  }
  const out: VariantOptions = { fit, metadata };
  for (const side of ['width', 'height'] as const) {
    const v = raw[side];
    if (v === undefined || v === null) continue;
    if (!is.integer(v) || !is.inRange(v, 1, MAX_VARIANT_SIDE)) {
      return { ok: false, error: invalid(side, `integer between 1 and ${MAX_VARIANT_SIDE}`, v) };
    }
    out[side] = v;
  }
  const ttl = raw.browser_ttl;
  if (ttl !== undefined && ttl !== null) {
    if (!is.integer(ttl) || !is.inRange(ttl, MIN_BROWSER_TTL, MAX_BROWSER_TTL)) {
      return {
        ok: false,
        error: invalid('browser_ttl', `integer between ${MIN_BROWSER_TTL} and ${MAX_BROWSER_TTL}`, ttl),
      };
    }
    out.browser_ttl = ttl;
  }
  return { ok: true, value: out };
}

/** Variant ids: 1..99 ASCII letters and digits (the spec's pattern, with its missing quantifier). */
export const VARIANT_ID_RE = /^[a-zA-Z0-9]{1,99}$/;
