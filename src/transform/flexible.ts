/**
 * Parses a Cloudflare flexible-variant option list (`w=400,h=300,fit=cover,q=75`, digest §5.3) into
 * typed `TransformOptions`. Pure: no I/O, no sharp. One dispatch table maps every option name and
 * alias to its parser, as imgproxy's `case "width", "w":` (practice 2); every failure is the one
 * validation sentence of `core/check.ts`, naming the option by its canonical name (`w=0` and
 * `width=0` both say `for width`), with a numeric value shown as a number so the sentence matches the
 * stored-variant one (`received 0 of type number`).
 */
import ColourModule from '@img/colour';
import { invalid, is } from '../core/check.js';
import { FITS, METADATA_MODES } from '../core/types.js';
import {
  defaults,
  type Flip,
  type Gravity,
  type OutputFormat,
  type TransformFit,
  type TransformOptions,
  type Trim,
} from './options.js';
import { MAX_VARIANT_SIDE, type ParseResult } from './variant-options.js';

/** Where a list is parsed: a flexible variant, or a transformation URL (which accepts a few more values). */
export interface ParseFlexibleOptions {
  transformation?: boolean;
}

/** A parser stores its value in `out` and returns undefined, or returns the validation sentence. */
type OptionParser = (
  value: string,
  out: Partial<TransformOptions>,
  mode: ParseFlexibleOptions,
) => string | undefined;

/** Largest device pixel ratio. Cloudflare's dpr page documents 2; we accept up to 3 (as its older pages did). */
export const MAX_DPR = 3;

/** Output formats a flexible variant may ask for; `json` (metadata output) only on transformation URLs. */
const FORMATS: readonly OutputFormat[] = ['auto', 'avif', 'webp', 'jpeg', 'png', 'gif', 'baseline-jpeg'];
const TRANSFORM_FORMATS: readonly OutputFormat[] = [...FORMATS, 'json'];
/** Fits of transformation URLs: the five, plus `squeeze` and `aspect-crop` (digest §5.4). */
const TRANSFORM_FITS: readonly TransformFit[] = [...FITS, 'squeeze', 'aspect-crop'];
const SIDES = ['left', 'right', 'top', 'bottom', 'center'] as const;
const TRIM_SIDES = ['top', 'right', 'bottom', 'left'] as const;

/** Plain decimal numbers only: no exponent, hex, whitespace or empty string (which `Number` would accept). */
const NUMBER_RE = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** The number a value spells, or undefined. */
function num(v: string): number | undefined {
  return NUMBER_RE.test(v) ? Number(v) : undefined;
}

/** What the sentence shows as received: the number when the value is numeric, else the string. */
function shown(v: string): number | string {
  return num(v) ?? v;
}

/** Integer in [min, max] (strings like `1.0` are refused), or undefined. */
function int(v: string, min: number, max: number): number | undefined {
  if (!/^-?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && is.inRange(n, min, max) ? n : undefined;
}

/** `width`/`height`: integer 1..12000, or `auto` (left unset: the source size decides). */
function side(name: 'width' | 'height'): OptionParser {
  return (v, out) => {
    if (v === 'auto') {
      delete out[name];
      return undefined;
    }
    const n = int(v, 1, MAX_VARIANT_SIDE);
    if (n === undefined) return invalid(name, `integer between 1 and ${MAX_VARIANT_SIDE}`, shown(v));
    out[name] = n;
    return undefined;
  };
}

/** A number in [min, max]; `zeroUnsets` leaves the option unset for 0 (Cloudflare: "0 is ignored"). */
function range(
  name: 'blur' | 'sharpen' | 'brightness' | 'contrast' | 'gamma' | 'saturation',
  min: number,
  max: number,
  zeroUnsets: boolean,
): OptionParser {
  return (v, out) => {
    const n = num(v);
    if (n === undefined || !is.inRange(n, min, max))
      return invalid(name, `number between ${min} and ${max}`, shown(v));
    if (n === 0 && zeroUnsets) delete out[name];
    else out[name] = n;
    return undefined;
  };
}

/** A value from a fixed list, stored as is; `transformationValues` is the list on transformation URLs. */
function oneOf<K extends 'fit' | 'format' | 'metadata'>(
  name: K,
  values: readonly TransformOptions[K][],
  transformationValues = values,
): OptionParser {
  return (v, out, mode) => {
    const list = mode.transformation ? transformationValues : values;
    if (!is.oneOf(v, list as readonly string[])) return invalid(name, `one of ${list.join(', ')}`, v);
    out[name] = v as TransformOptions[K];
    return undefined;
  };
}

/** `onerror=redirect`: recorded on transformation URLs (a failure redirects to the source), ignored by variants. */
const parseOnerror: OptionParser = (v, out, mode) => {
  if (v !== 'redirect') return invalid('onerror', 'redirect', v);
  if (mode.transformation) out.onerror = 'redirect';
  return undefined;
};

/** A value accepted for compatibility that changes nothing here (`compression=fast`). */
function accepted(name: string, value: string): OptionParser {
  return (v) => (v === value ? undefined : invalid(name, value, v));
}

const parseQuality: OptionParser = (v, out) => {
  const n = int(v, 1, 100);
  if (n === undefined) return invalid('quality', 'integer between 1 and 100', shown(v));
  out.quality = n;
  return undefined;
};

const GRAVITY_EXPECTED = `one of auto, ${SIDES.join(', ')} or XxY with fractions between 0 and 1`;

const parseGravity: OptionParser = (v, out) => {
  let gravity: Gravity | undefined;
  if (v === 'auto') gravity = { kind: 'auto' };
  else if (is.oneOf(v, SIDES)) gravity = { kind: 'side', side: v };
  else {
    const m = /^([^x]+)x([^x]+)$/.exec(v);
    const x = m ? num(m[1]!) : undefined;
    const y = m ? num(m[2]!) : undefined;
    if (x !== undefined && y !== undefined && is.inRange(x, 0, 1) && is.inRange(y, 0, 1))
      gravity = { kind: 'point', x, y };
  }
  if (!gravity) return invalid('gravity', GRAVITY_EXPECTED, v);
  out.gravity = gravity;
  return undefined;
};

const parseRotate: OptionParser = (v, out) => {
  const n = num(v);
  if (n === 0) {
    delete out.rotate;
    return undefined;
  }
  if (n !== 90 && n !== 180 && n !== 270) return invalid('rotate', 'one of 0, 90, 180, 270', shown(v));
  out.rotate = n;
  return undefined;
};

const parseDpr: OptionParser = (v, out) => {
  const n = num(v);
  if (n === undefined || n <= 0 || n > MAX_DPR)
    return invalid('dpr', `number greater than 0 and at most ${MAX_DPR}`, shown(v));
  out.dpr = n;
  return undefined;
};

const parseAnim: OptionParser = (v, out) => {
  if (v !== 'true' && v !== 'false') return invalid('anim', 'one of true, false', v);
  out.anim = v === 'true';
  return undefined;
};

type Rgba = NonNullable<TransformOptions['background']>;

/** `@img/colour` is CommonJS: its `module.exports` is the function its types call the default export. */
const Colour = ColourModule as unknown as typeof ColourModule.default;

const COLOUR_EXPECTED =
  'CSS colour (a name, #rgb, #rgba, #rrggbb, #rrggbbaa, rgb(), rgba(), hsl(), hsla() or hwb())';

/**
 * Parses any CSS colour into channels 0..255 and alpha 0..1 (rounded to 3 decimals), or undefined.
 * Uses sharp's own colour parser (`@img/colour`, the `color` package sharp depends on), so every
 * CSS name and the CSS Color 4 space-separated syntax (`rgb(255 0 0 / 50%)`) work as in sharp.
 * @example parseColour('#f00') // { r: 255, g: 0, b: 0, alpha: 1 }
 * @example parseColour('rebeccapurple') // { r: 102, g: 51, b: 153, alpha: 1 }
 */
export function parseColour(css: string): Rgba | undefined {
  let c: ReturnType<typeof ColourModule.default>;
  try {
    c = Colour(css.trim().toLowerCase());
  } catch {
    return undefined;
  }
  const { r, g, b } = c.rgb().object() as { r: number; g: number; b: number };
  return { r: Math.round(r), g: Math.round(g), b: Math.round(b), alpha: Math.round(c.alpha() * 1000) / 1000 };
}

const parseBackground: OptionParser = (v, out) => {
  const colour = parseColour(v);
  if (!colour) return invalid('background', COLOUR_EXPECTED, v);
  out.background = colour;
  return undefined;
};

/** Trims written as `trim=top;right;bottom;left`, so a later `trim.top` can tell it would override one. */
const WHOLE_TRIMS = new WeakSet<Trim>();

const parseTrim: OptionParser = (v, out) => {
  const parts = v.split(';');
  const values = parts.map((p) => int(p, 0, Number.MAX_SAFE_INTEGER));
  if (parts.length !== 4 || values.some((n) => n === undefined)) {
    return invalid('trim', 'top;right;bottom;left as non-negative integers', v);
  }
  if (out.trim) return invalid('trim', 'either trim or trim.top, trim.right, trim.bottom, trim.left', v);
  const [top, right, bottom, left] = values as [number, number, number, number];
  const trim = { top, right, bottom, left };
  WHOLE_TRIMS.add(trim);
  out.trim = trim;
  return undefined;
};

/** `trim.top` and friends: one side each, the others 0; cannot be mixed with `trim=`. */
function trimSide(which: (typeof TRIM_SIDES)[number]): OptionParser {
  const name = `trim.${which}`;
  return (v, out) => {
    const n = int(v, 0, Number.MAX_SAFE_INTEGER);
    if (n === undefined) return invalid(name, 'non-negative integer', shown(v));
    if (out.trim && WHOLE_TRIMS.has(out.trim))
      return invalid(name, 'either trim or trim.top, trim.right, trim.bottom, trim.left', shown(v));
    const size = which === 'right' ? 'width' : which === 'bottom' ? 'height' : undefined;
    if (size && out.trim?.[size] !== undefined)
      return invalid(name, `either trim.${size} or trim.${which}`, shown(v));
    out.trim = { ...(out.trim ?? { top: 0, right: 0, bottom: 0, left: 0 }), [which]: n };
    return undefined;
  };
}

/** `trim.width`/`trim.height`: the size of the kept area from `trim.left`/`trim.top` (the plan needs the source size). */
function trimSize(which: 'width' | 'height'): OptionParser {
  const name = `trim.${which}`;
  const opposite = which === 'width' ? 'right' : 'bottom';
  return (v, out) => {
    const n = int(v, 1, Number.MAX_SAFE_INTEGER);
    if (n === undefined) return invalid(name, 'positive integer', shown(v));
    if (out.trim && WHOLE_TRIMS.has(out.trim))
      return invalid(name, 'either trim or trim.top, trim.right, trim.bottom, trim.left', shown(v));
    if (out.trim && out.trim[opposite] !== 0)
      return invalid(name, `either trim.${which} or trim.${opposite}`, shown(v));
    out.trim = { ...(out.trim ?? { top: 0, right: 0, bottom: 0, left: 0 }), [which]: n };
    return undefined;
  };
}

const FLIPS: readonly Flip[] = ['h', 'v', 'hv'];

const parseFlip: OptionParser = (v, out) => {
  if (!is.oneOf(v, FLIPS)) return invalid('flip', `one of ${FLIPS.join(', ')}`, v);
  out.flip = v;
  return undefined;
};

const parseWidth = side('width');
const parseHeight = side('height');
const parseFit = oneOf('fit', FITS as readonly TransformFit[], TRANSFORM_FITS);
const parseFormat = oneOf('format', FORMATS, TRANSFORM_FORMATS);

/** The dispatch table: every option name and alias → its parser. Aliases share the parser object. */
const OPTIONS: Record<string, OptionParser> = {
  width: parseWidth,
  w: parseWidth,
  height: parseHeight,
  h: parseHeight,
  fit: parseFit,
  quality: parseQuality,
  q: parseQuality,
  format: parseFormat,
  f: parseFormat,
  gravity: parseGravity,
  g: parseGravity,
  blur: range('blur', 1, 250, false),
  sharpen: range('sharpen', 0, 10, true),
  rotate: parseRotate,
  background: parseBackground,
  dpr: parseDpr,
  trim: parseTrim,
  'trim.top': trimSide('top'),
  'trim.right': trimSide('right'),
  'trim.bottom': trimSide('bottom'),
  'trim.left': trimSide('left'),
  'trim.width': trimSize('width'),
  'trim.height': trimSize('height'),
  flip: parseFlip,
  anim: parseAnim,
  metadata: oneOf('metadata', METADATA_MODES),
  brightness: range('brightness', 0, 10, true),
  contrast: range('contrast', 0, 10, true),
  gamma: range('gamma', 0, 10, true),
  saturation: range('saturation', 0, 10, false),
  compression: accepted('compression', 'fast'),
  onerror: parseOnerror,
};

/** Parser → the name sentences use for it: its first key in the table (`w` → `width`). */
const CANONICAL = new Map<OptionParser, string>();
for (const [name, parse] of Object.entries(OPTIONS)) if (!CANONICAL.has(parse)) CANONICAL.set(parse, name);

/** Every option name and alias the parser knows, in table order (for docs). */
export const FLEXIBLE_OPTION_NAMES: readonly string[] = Object.freeze(Object.keys(OPTIONS));

/**
 * Whether a delivery URL's last segment is an option list rather than a variant name.
 * @example isOptionList('w=400,fit=cover') // true
 * @example isOptionList('public') // false
 */
export function isOptionList(segment: string): boolean {
  return segment.includes('=');
}

/** Splits on commas outside parentheses, so `background=rgb(255,0,0)` stays one item. */
function splitItems(segment: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      items.push(segment.slice(start, i));
      start = i + 1;
    }
  }
  items.push(segment.slice(start));
  return items;
}

/**
 * Parses a flexible-variant segment, still percent-encoded as it arrived in the URL path; each value
 * is percent-decoded. Empty segments and items, items without `name=`, unknown names and an option
 * given twice (also through an alias: `w=1,width=2`) are refused. With `{ transformation: true }`
 * (transformation URLs) `fit=squeeze`, `fit=aspect-crop`, `format=json` and `onerror=redirect` count.
 * @example parseFlexible('w=400,fit=cover,background=%23ff0000') // { ok: true, value: { width: 400, fit: 'cover', ... } }
 */
export function parseFlexible(
  segment: string,
  mode: ParseFlexibleOptions = {},
): ParseResult<TransformOptions> {
  if (segment === '')
    return { ok: false, error: invalid('options', 'comma-separated list of name=value options', segment) };
  const out: Partial<TransformOptions> = {};
  const seen = new Set<OptionParser>();
  const items = splitItems(segment);
  for (const [i, item] of items.entries()) {
    const eq = item.indexOf('=');
    if (eq <= 0) return { ok: false, error: invalid(`option ${i + 1}`, 'name=value', item) };
    const name = item.slice(0, eq);
    const raw = item.slice(eq + 1);
    const parse = Object.hasOwn(OPTIONS, name) ? OPTIONS[name] : undefined;
    if (!parse)
      return { ok: false, error: invalid('option name', `one of ${FLEXIBLE_OPTION_NAMES.join(', ')}`, name) };
    const canonical = CANONICAL.get(parse)!;
    if (seen.has(parse)) return { ok: false, error: invalid(canonical, 'at most one value', item) };
    seen.add(parse);
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      return { ok: false, error: invalid(canonical, 'percent-encoded value', raw) };
    }
    const error = parse(value, out, mode);
    if (error !== undefined) return { ok: false, error };
  }
  return { ok: true, value: defaults(out) };
}
