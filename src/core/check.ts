/**
 * Small predicates and the one validation sentence, after sharp's `is.invalidParameterError`:
 * `Expected <expected> for <name> but received <actual> of type <type>`. Admin API 400s and
 * flexible-variant errors reuse this sentence word for word.
 */

/** Renders a received value for the validation sentence. */
function show(actual: unknown): string {
  if (typeof actual === 'string') return actual.length > 64 ? `${actual.slice(0, 64)}…` : actual;
  try {
    const s = JSON.stringify(actual);
    return s === undefined ? String(actual) : s.length > 64 ? `${s.slice(0, 64)}…` : s;
  } catch {
    return String(actual);
  }
}

/**
 * The validation sentence.
 * @example invalid('width', 'positive integer', 0) // 'Expected positive integer for width but received 0 of type number'
 */
export function invalid(name: string, expected: string, actual: unknown): string {
  const type = actual === null ? 'null' : Array.isArray(actual) ? 'array' : typeof actual;
  return `Expected ${expected} for ${name} but received ${show(actual)} of type ${type}`;
}

export const is = {
  defined<T>(v: T | undefined | null): v is T {
    return v !== undefined && v !== null;
  },
  plainObject(v: unknown): v is Record<string, unknown> {
    return (
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      Object.getPrototypeOf(v) === Object.prototype
    );
  },
  integer(v: unknown): v is number {
    return typeof v === 'number' && Number.isInteger(v);
  },
  inRange(v: number, min: number, max: number): boolean {
    return v >= min && v <= max;
  },
  oneOf<T extends string>(v: unknown, values: readonly T[]): v is T {
    return typeof v === 'string' && (values as readonly string[]).includes(v);
  },
};

/**
 * Parses a boolean the way multipart clients send it: `true`/`false` (SDKs), `1`/`0` (curl habits).
 * @example parseBool('true') // true
 */
export function parseBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return undefined;
}

/** Deepest nesting of objects and arrays a JSON body or metadata value may have. */
export const MAX_JSON_DEPTH = 32;

/**
 * How deeply the arrays and objects of JSON text nest, counted in one pass over the characters
 * (strings skipped), so a hostile body is refused before any recursive code (JSON.stringify, a
 * validator, show()) walks it. Hand-written: no maintained package measures depth without parsing,
 * and parsing first is what must not happen. Stops counting at `limit + 1`.
 * @example jsonDepth('{"a":[1,{"b":2}]}') // 3
 */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
