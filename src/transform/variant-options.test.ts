import { describe, expect, it } from 'vitest';
import { invalid } from '../core/check.js';
import {
  MAX_BROWSER_TTL,
  MAX_VARIANT_SIDE,
  MIN_BROWSER_TTL,
  parseVariantOptions,
  VARIANT_ID_RE,
} from './variant-options.js';

/** The error sentence, failing the test if the options parsed. */
function err(raw: unknown): string {
  const r = parseVariantOptions(raw);
  if (r.ok) throw new Error(`expected ${JSON.stringify(raw)} to fail, got: ${JSON.stringify(r.value)}`);
  return r.error;
}

const SIDE = 'integer between 1 and 12000';
const TTL = 'integer between 3600 and 31536000';
const KEYS = 'one of fit, metadata, width, height, browser_ttl';

describe('variant option bounds', () => {
  it('are the documented numbers', () => {
    expect(MAX_VARIANT_SIDE).toBe(12_000);
    expect(MIN_BROWSER_TTL).toBe(3600);
    expect(MAX_BROWSER_TTL).toBe(31_536_000);
  });
});

describe('parseVariantOptions: accepted', () => {
  it('fills Cloudflare defaults for an empty object', () => {
    expect(parseVariantOptions({})).toStrictEqual({
      ok: true,
      value: { fit: 'scale-down', metadata: 'copyright' },
    });
  });

  it('keeps every option exactly', () => {
    expect(
      parseVariantOptions({ fit: 'cover', metadata: 'none', width: 100, height: 200, browser_ttl: 86_400 }),
    ).toStrictEqual({
      ok: true,
      value: { fit: 'cover', metadata: 'none', width: 100, height: 200, browser_ttl: 86_400 },
    });
  });

  it.each(['scale-down', 'contain', 'cover', 'crop', 'pad'])('accepts fit=%s', (fit) => {
    const r = parseVariantOptions({ fit });
    expect(r.ok && r.value.fit).toBe(fit);
  });

  it.each(['keep', 'copyright', 'none'])('accepts metadata=%s', (metadata) => {
    const r = parseVariantOptions({ metadata });
    expect(r.ok && r.value.metadata).toBe(metadata);
  });

  it.each(['width', 'height'] as const)('accepts %s at both ends of 1..12000 and nothing more', (side) => {
    for (const v of [1, 12_000]) {
      expect(parseVariantOptions({ [side]: v })).toStrictEqual({
        ok: true,
        value: { fit: 'scale-down', metadata: 'copyright', [side]: v },
      });
    }
  });

  it('accepts browser_ttl at both ends of 3600..31536000', () => {
    for (const ttl of [3600, 31_536_000]) {
      expect(parseVariantOptions({ browser_ttl: ttl })).toStrictEqual({
        ok: true,
        value: { fit: 'scale-down', metadata: 'copyright', browser_ttl: ttl },
      });
    }
  });

  it('treats null like a missing side or TTL (no key in the result)', () => {
    const r = parseVariantOptions({ width: null, height: null, browser_ttl: null });
    expect(r).toStrictEqual({ ok: true, value: { fit: 'scale-down', metadata: 'copyright' } });
    const u = parseVariantOptions({ width: undefined, browser_ttl: undefined });
    expect(u).toStrictEqual({ ok: true, value: { fit: 'scale-down', metadata: 'copyright' } });
  });

  it('treats a null fit or metadata as missing (the defaults)', () => {
    expect(parseVariantOptions({ fit: null, metadata: null })).toStrictEqual({
      ok: true,
      value: { fit: 'scale-down', metadata: 'copyright' },
    });
  });

  it('leaves width alone when only height is given, and the other way round', () => {
    const h = parseVariantOptions({ height: 50 });
    expect(h.ok && 'width' in h.value).toBe(false);
    const w = parseVariantOptions({ width: 50 });
    expect(w.ok && 'height' in w.value).toBe(false);
  });
});

describe('parseVariantOptions: refused, with the validation sentence', () => {
  it.each([
    ['a string', 'cover'],
    ['null', null],
    ['an array', [1]],
    ['a number', 3],
    ['a class instance', new Date(0)],
  ])('refuses %s as options', (_label, raw) => {
    expect(err(raw)).toBe(invalid('options', 'object', raw));
  });

  it('refuses an unknown key, naming it', () => {
    expect(err({ fit: 'cover', widht: 10 })).toBe(invalid('options.widht', KEYS, 'widht'));
    expect(err({ quality: 80 })).toBe(
      'Expected one of fit, metadata, width, height, browser_ttl for options.quality but received quality of type string',
    );
  });

  it('refuses an unknown fit or a fit that is not a string', () => {
    const FIT = 'one of scale-down, contain, cover, crop, pad';
    expect(err({ fit: 'squeeze' })).toBe(invalid('fit', FIT, 'squeeze'));
    expect(err({ fit: 1 })).toBe(invalid('fit', FIT, 1));
  });

  it('refuses an unknown metadata mode', () => {
    const MODES = 'one of keep, copyright, none';
    expect(err({ metadata: 'all' })).toBe(invalid('metadata', MODES, 'all'));
    expect(err({ metadata: true })).toBe(invalid('metadata', MODES, true));
  });

  it.each(['width', 'height'] as const)('refuses %s outside 1..12000 or not an integer', (side) => {
    for (const v of [0, -1, 12_001, 1.5, '100', Number.NaN, true]) {
      expect(err({ [side]: v })).toBe(invalid(side, SIDE, v));
    }
  });

  it('checks width before height', () => {
    expect(err({ width: 0, height: 0 })).toBe(invalid('width', SIDE, 0));
    expect(err({ width: 10, height: 0 })).toBe(invalid('height', SIDE, 0));
  });

  it('refuses browser_ttl outside 3600..31536000 or not an integer', () => {
    for (const v of [3599, 0, -3600, 31_536_001, 3600.5, '3600', false]) {
      expect(err({ browser_ttl: v })).toBe(invalid('browser_ttl', TTL, v));
    }
  });

  it('reports the key check before any value check', () => {
    expect(err({ fit: 'nope', bad: 1 })).toBe(invalid('options.bad', KEYS, 'bad'));
  });
});

describe('VARIANT_ID_RE', () => {
  it('accepts 1..99 ASCII letters and digits', () => {
    for (const id of ['a', 'Z', '0', 'thumbnail', 'A1b2', 'x'.repeat(99)])
      expect(VARIANT_ID_RE.test(id)).toBe(true);
  });

  it('refuses empty, too long, or anything but letters and digits', () => {
    for (const id of ['', 'x'.repeat(100), 'a-b', 'a_b', 'a b', 'é', 'a/b', ' a', 'a\n'])
      expect(VARIANT_ID_RE.test(id)).toBe(false);
  });
});
