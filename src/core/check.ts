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
    return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
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
