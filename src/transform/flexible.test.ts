import { describe, expect, it } from 'vitest';
import { invalid } from '../core/check.js';
import { FLEXIBLE_OPTION_NAMES, isOptionList, MAX_DPR, parseColour, parseFlexible } from './flexible.js';
import { defaults, type TransformOptions } from './options.js';

/** The parsed value, failing the test with the error sentence otherwise. */
function ok(segment: string): TransformOptions {
  const r = parseFlexible(segment);
  if (!r.ok) throw new Error(`expected ${segment} to parse, got: ${r.error}`);
  return r.value;
}

/** The error sentence, failing the test if the segment parsed. */
function err(segment: string): string {
  const r = parseFlexible(segment);
  if (r.ok) throw new Error(`expected ${segment} to fail, got: ${JSON.stringify(r.value)}`);
  return r.error;
}

const WIDTH = 'integer between 1 and 12000';
const GRAVITY = 'one of auto, left, right, top, bottom, center or XxY with fractions between 0 and 1';
const COLOUR = 'CSS colour (a name, #rgb, #rgba, #rrggbb, #rrggbbaa, rgb(), rgba(), hsl(), hsla() or hwb())';
const TRIM = 'top;right;bottom;left as non-negative integers';
const TRIM_MIX = 'either trim or trim.top, trim.right, trim.bottom, trim.left';

describe('parseFlexible: the full example', () => {
  it('parses every option to exact typed values', () => {
    const value = ok(
      'w=400,h=300,fit=cover,q=75,f=webp,blur=10,sharpen=2,rotate=90,gravity=auto,background=%23ff0000,dpr=2,trim=10;10;10;10,anim=false,metadata=none',
    );
    expect(value).toStrictEqual({
      width: 400,
      height: 300,
      fit: 'cover',
      quality: 75,
      format: 'webp',
      blur: 10,
      sharpen: 2,
      rotate: 90,
      gravity: { kind: 'auto' },
      background: { r: 255, g: 0, b: 0, alpha: 1 },
      dpr: 2,
      trim: { top: 10, right: 10, bottom: 10, left: 10 },
      anim: false,
      metadata: 'none',
    });
  });

  it('fills defaults for what the segment does not set', () => {
    expect(ok('w=100')).toStrictEqual(defaults({ width: 100 }));
    expect(ok('w=100')).toStrictEqual({
      width: 100,
      fit: 'scale-down',
      dpr: 1,
      quality: 85,
      format: 'auto',
      metadata: 'copyright',
      anim: true,
      gravity: { kind: 'side', side: 'center' },
    });
  });

  it('accepts the rewrite example from the docs', () => {
    expect(ok('width=100,height=300')).toStrictEqual(defaults({ width: 100, height: 300 }));
  });
});

describe('width and height (w, h)', () => {
  it.each([
    ['width=1', { width: 1 }],
    ['w=1', { width: 1 }],
    ['w=12000', { width: 12000 }],
    ['height=1', { height: 1 }],
    ['h=12000', { height: 12000 }],
    ['w=640,h=480', { width: 640, height: 480 }],
  ])('%s', (segment, partial) => {
    expect(ok(segment)).toStrictEqual(defaults(partial));
  });

  it('auto leaves the side unset', () => {
    expect(ok('w=auto')).toStrictEqual(defaults());
    expect(ok('h=auto,w=5')).toStrictEqual(defaults({ width: 5 }));
    expect('width' in ok('w=auto')).toBe(false);
  });

  it('refuses out-of-range and non-integer values with the stored-variant sentence', () => {
    expect(err('w=0')).toBe('Expected integer between 1 and 12000 for width but received 0 of type number');
    expect(err('w=12001')).toBe(invalid('width', WIDTH, 12001));
    expect(err('width=-5')).toBe(invalid('width', WIDTH, -5));
    expect(err('w=1.5')).toBe(invalid('width', WIDTH, 1.5));
    expect(err('w=abc')).toBe(
      'Expected integer between 1 and 12000 for width but received abc of type string',
    );
    expect(err('w=')).toBe(invalid('width', WIDTH, ''));
    expect(err('w=1e3')).toBe(invalid('width', WIDTH, '1e3'));
    expect(err('w=0x10')).toBe(invalid('width', WIDTH, '0x10'));
    expect(err('w=%2010')).toBe(invalid('width', WIDTH, ' 10'));
    expect(err('h=0')).toBe(invalid('height', WIDTH, 0));
    expect(err('h=12001')).toBe(
      'Expected integer between 1 and 12000 for height but received 12001 of type number',
    );
    expect(err('h=AUTO')).toBe(invalid('height', WIDTH, 'AUTO'));
  });
});

describe('fit', () => {
  it.each(['scale-down', 'contain', 'cover', 'crop', 'pad'] as const)('fit=%s', (fit) => {
    expect(ok(`fit=${fit}`)).toStrictEqual(defaults({ fit }));
  });

  it.each(['squeeze', 'aspect-crop', 'fill', 'COVER', ''])('refuses fit=%s', (fit) => {
    expect(err(`fit=${fit}`)).toBe(invalid('fit', 'one of scale-down, contain, cover, crop, pad', fit));
  });

  it('says it word for word', () => {
    expect(err('fit=squeeze')).toBe(
      'Expected one of scale-down, contain, cover, crop, pad for fit but received squeeze of type string',
    );
  });
});

describe('quality (q)', () => {
  it('accepts 1..100 integers through both names', () => {
    expect(ok('q=1').quality).toBe(1);
    expect(ok('q=100').quality).toBe(100);
    expect(ok('quality=42').quality).toBe(42);
  });

  it('refuses the rest', () => {
    expect(err('q=0')).toBe('Expected integer between 1 and 100 for quality but received 0 of type number');
    expect(err('q=101')).toBe(invalid('quality', 'integer between 1 and 100', 101));
    expect(err('quality=50.5')).toBe(invalid('quality', 'integer between 1 and 100', 50.5));
    expect(err('q=high')).toBe(invalid('quality', 'integer between 1 and 100', 'high'));
  });
});

describe('format (f)', () => {
  it.each(['auto', 'avif', 'webp', 'jpeg', 'png', 'gif', 'baseline-jpeg'] as const)(
    'f=%s and format=%s',
    (format) => {
      expect(ok(`f=${format}`)).toStrictEqual(defaults({ format }));
      expect(ok(`format=${format}`)).toStrictEqual(defaults({ format }));
    },
  );

  it('refuses json and unknown formats', () => {
    const expected = 'one of auto, avif, webp, jpeg, png, gif, baseline-jpeg';
    expect(err('format=json')).toBe(
      'Expected one of auto, avif, webp, jpeg, png, gif, baseline-jpeg for format but received json of type string',
    );
    expect(err('f=jpg')).toBe(invalid('format', expected, 'jpg'));
    expect(err('f=tiff')).toBe(invalid('format', expected, 'tiff'));
  });
});

describe('gravity (g)', () => {
  it('accepts auto and sides', () => {
    expect(ok('gravity=auto').gravity).toStrictEqual({ kind: 'auto' });
    expect(ok('g=auto').gravity).toStrictEqual({ kind: 'auto' });
    for (const side of ['left', 'right', 'top', 'bottom', 'center'] as const) {
      expect(ok(`g=${side}`).gravity).toStrictEqual({ kind: 'side', side });
    }
  });

  it('accepts XxY fractions', () => {
    expect(ok('g=0.5x0.33').gravity).toStrictEqual({ kind: 'point', x: 0.5, y: 0.33 });
    expect(ok('gravity=0x1').gravity).toStrictEqual({ kind: 'point', x: 0, y: 1 });
    expect(ok('g=1x0').gravity).toStrictEqual({ kind: 'point', x: 1, y: 0 });
    expect(ok('g=.25x1.0').gravity).toStrictEqual({ kind: 'point', x: 0.25, y: 1 });
  });

  it.each(['face', '1.5x0.5', '0.5x-0.1', '0.5', '0.5x', 'x0.5', '0.5x0.5x0.5', 'AUTO', ''])(
    'refuses g=%s',
    (g) => {
      expect(err(`g=${g}`)).toBe(invalid('gravity', GRAVITY, g));
    },
  );

  it('says it word for word', () => {
    expect(err('g=face')).toBe(
      'Expected one of auto, left, right, top, bottom, center or XxY with fractions between 0 and 1 for gravity but received face of type string',
    );
  });
});

describe('blur', () => {
  it('accepts numbers 1..250', () => {
    expect(ok('blur=1').blur).toBe(1);
    expect(ok('blur=250').blur).toBe(250);
    expect(ok('blur=2.5').blur).toBe(2.5);
  });

  it('refuses the rest', () => {
    expect(err('blur=251')).toBe(
      'Expected number between 1 and 250 for blur but received 251 of type number',
    );
    expect(err('blur=0')).toBe(invalid('blur', 'number between 1 and 250', 0));
    expect(err('blur=0.5')).toBe(invalid('blur', 'number between 1 and 250', 0.5));
    expect(err('blur=lots')).toBe(invalid('blur', 'number between 1 and 250', 'lots'));
  });
});

describe('sharpen', () => {
  it('accepts numbers 0..10; 0 leaves it unset', () => {
    expect(ok('sharpen=10').sharpen).toBe(10);
    expect(ok('sharpen=0.5').sharpen).toBe(0.5);
    expect(ok('sharpen=0')).toStrictEqual(defaults());
  });

  it('refuses the rest', () => {
    expect(err('sharpen=11')).toBe(
      'Expected number between 0 and 10 for sharpen but received 11 of type number',
    );
    expect(err('sharpen=-1')).toBe(invalid('sharpen', 'number between 0 and 10', -1));
    expect(err('sharpen=10.01')).toBe(invalid('sharpen', 'number between 0 and 10', 10.01));
  });
});

describe('rotate', () => {
  it.each([90, 180, 270] as const)('rotate=%i', (rotate) => {
    expect(ok(`rotate=${rotate}`)).toStrictEqual(defaults({ rotate }));
  });

  it('0 leaves it unset', () => {
    expect(ok('rotate=0')).toStrictEqual(defaults());
  });

  it('refuses other angles', () => {
    expect(err('rotate=45')).toBe(
      'Expected one of 0, 90, 180, 270 for rotate but received 45 of type number',
    );
    expect(err('rotate=360')).toBe(invalid('rotate', 'one of 0, 90, 180, 270', 360));
    expect(err('rotate=-90')).toBe(invalid('rotate', 'one of 0, 90, 180, 270', -90));
    expect(err('rotate=left')).toBe(invalid('rotate', 'one of 0, 90, 180, 270', 'left'));
  });
});

describe('background', () => {
  it.each([
    ['%23ff0000', { r: 255, g: 0, b: 0, alpha: 1 }],
    ['%23FF8000', { r: 255, g: 128, b: 0, alpha: 1 }],
    ['%23f00', { r: 255, g: 0, b: 0, alpha: 1 }],
    ['%230f08', { r: 0, g: 255, b: 0, alpha: 0.533 }],
    ['%2300000080', { r: 0, g: 0, b: 0, alpha: 0.502 }],
    ['%23ffffff00', { r: 255, g: 255, b: 255, alpha: 0 }],
    ['rgb(1,2,3)', { r: 1, g: 2, b: 3, alpha: 1 }],
    ['rgb(1%2C2%2C3)', { r: 1, g: 2, b: 3, alpha: 1 }],
    ['rgb(1,%202,%203)', { r: 1, g: 2, b: 3, alpha: 1 }],
    ['rgba(10,20,30,0.5)', { r: 10, g: 20, b: 30, alpha: 0.5 }],
    ['white', { r: 255, g: 255, b: 255, alpha: 1 }],
    ['black', { r: 0, g: 0, b: 0, alpha: 1 }],
    ['red', { r: 255, g: 0, b: 0, alpha: 1 }],
    ['green', { r: 0, g: 128, b: 0, alpha: 1 }],
    ['blue', { r: 0, g: 0, b: 255, alpha: 1 }],
    ['transparent', { r: 0, g: 0, b: 0, alpha: 0 }],
    ['White', { r: 255, g: 255, b: 255, alpha: 1 }],
  ])('background=%s', (css, background) => {
    expect(ok(`background=${css}`)).toStrictEqual(defaults({ background }));
  });

  it('keeps rgb() commas inside the item alongside other options', () => {
    expect(ok('w=10,background=rgb(255,0,0),h=20')).toStrictEqual(
      defaults({ width: 10, height: 20, background: { r: 255, g: 0, b: 0, alpha: 1 } }),
    );
  });

  // CSS Color 4 (what sharp's own parser reads): every named colour, hsl(), hwb(), space-separated
  // arguments with `/ alpha`, and out-of-range channels clamped rather than refused.
  it.each([
    ['purple', { r: 128, g: 0, b: 128, alpha: 1 }],
    ['rebeccapurple', { r: 102, g: 51, b: 153, alpha: 1 }],
    ['darkorange', { r: 255, g: 140, b: 0, alpha: 1 }],
    ['RED', { r: 255, g: 0, b: 0, alpha: 1 }],
    ['rgb(255%200%200)', { r: 255, g: 0, b: 0, alpha: 1 }],
    ['rgb(255%20255%200%20%2F%200.5)', { r: 255, g: 255, b: 0, alpha: 0.5 }],
    ['rgba(255%20255%200%20100)', { r: 255, g: 255, b: 0, alpha: 1 }],
    ['rgb(256,0,0)', { r: 255, g: 0, b: 0, alpha: 1 }],
    ['rgba(1,2,3)', { r: 1, g: 2, b: 3, alpha: 1 }],
    ['rgba(1,2,3,2)', { r: 1, g: 2, b: 3, alpha: 1 }],
    ['rgb(1,2,3,0.5)', { r: 1, g: 2, b: 3, alpha: 0.5 }],
    ['hsl(120,100%25,25%25)', { r: 0, g: 128, b: 0, alpha: 1 }],
    ['hsla(0,100%25,50%25,0.5)', { r: 255, g: 0, b: 0, alpha: 0.5 }],
    ['hwb(240%200%25%200%25)', { r: 0, g: 0, b: 255, alpha: 1 }],
  ])('background=%s (CSS Color 4)', (css, background) => {
    expect(ok(`background=${css}`)).toStrictEqual(defaults({ background }));
  });

  it.each([
    'ff0000',
    '#ff',
    '#ff00f',
    '#gg0000',
    '#ff00000',
    'rgb(1,2)',
    'notacolour',
    'currentcolor',
    'inherit',
    'oklch(0.5 0.1 20)',
    '',
  ])('refuses %s after decoding', (css) => {
    expect(err(`background=${encodeURIComponent(css)}`)).toBe(invalid('background', COLOUR, css));
  });

  it('an encoded comma stays in the value and reaches the colour parser', () => {
    expect(err('background=red%2Cblue')).toBe(invalid('background', COLOUR, 'red,blue'));
  });

  it('says it word for word', () => {
    expect(err('background=purpel')).toBe(
      'Expected CSS colour (a name, #rgb, #rgba, #rrggbb, #rrggbbaa, rgb(), rgba(), hsl(), hsla() or hwb()) for background but received purpel of type string',
    );
  });

  it('parseColour is usable on its own', () => {
    expect(parseColour('#abc')).toStrictEqual({ r: 0xaa, g: 0xbb, b: 0xcc, alpha: 1 });
    expect(parseColour('nope')).toBeUndefined();
  });
});

describe('dpr', () => {
  it('accepts numbers above 0 up to the maximum', () => {
    expect(MAX_DPR).toBe(3);
    expect(ok('dpr=1').dpr).toBe(1);
    expect(ok('dpr=0.5').dpr).toBe(0.5);
    expect(ok('dpr=1.5').dpr).toBe(1.5);
    expect(ok('dpr=2').dpr).toBe(2);
    expect(ok('dpr=3').dpr).toBe(3);
  });

  it('refuses 0, negatives and above the maximum', () => {
    expect(err('dpr=0')).toBe(
      'Expected number greater than 0 and at most 3 for dpr but received 0 of type number',
    );
    expect(err('dpr=-1')).toBe(invalid('dpr', 'number greater than 0 and at most 3', -1));
    expect(err('dpr=3.01')).toBe(invalid('dpr', 'number greater than 0 and at most 3', 3.01));
    expect(err('dpr=x2')).toBe(invalid('dpr', 'number greater than 0 and at most 3', 'x2'));
  });
});

describe('trim', () => {
  it('accepts top;right;bottom;left', () => {
    expect(ok('trim=1;2;3;4').trim).toStrictEqual({ top: 1, right: 2, bottom: 3, left: 4 });
    expect(ok('trim=0;0;0;0').trim).toStrictEqual({ top: 0, right: 0, bottom: 0, left: 0 });
    expect(ok('trim=1%3B2%3B3%3B4').trim).toStrictEqual({ top: 1, right: 2, bottom: 3, left: 4 });
  });

  it.each(['1;2;3', '1;2;3;4;5', '1;2;3;-4', '1;2;3;4.5', 'a;b;c;d', '1;;3;4', 'border', ''])(
    'refuses trim=%s',
    (trim) => {
      expect(err(`trim=${trim}`)).toBe(invalid('trim', TRIM, trim));
    },
  );

  it('says it word for word', () => {
    expect(err('trim=border')).toBe(
      'Expected top;right;bottom;left as non-negative integers for trim but received border of type string',
    );
  });

  it('accepts one side at a time, the others 0', () => {
    expect(ok('trim.top=5').trim).toStrictEqual({ top: 5, right: 0, bottom: 0, left: 0 });
    expect(ok('trim.right=6').trim).toStrictEqual({ top: 0, right: 6, bottom: 0, left: 0 });
    expect(ok('trim.bottom=7').trim).toStrictEqual({ top: 0, right: 0, bottom: 7, left: 0 });
    expect(ok('trim.left=8').trim).toStrictEqual({ top: 0, right: 0, bottom: 0, left: 8 });
    expect(ok('trim.top=1,trim.right=2,trim.bottom=3,trim.left=4').trim).toStrictEqual({
      top: 1,
      right: 2,
      bottom: 3,
      left: 4,
    });
  });

  it('refuses bad sides', () => {
    expect(err('trim.top=-1')).toBe(
      'Expected non-negative integer for trim.top but received -1 of type number',
    );
    expect(err('trim.left=x')).toBe(invalid('trim.left', 'non-negative integer', 'x'));
    expect(err('trim.bottom=1.5')).toBe(invalid('trim.bottom', 'non-negative integer', 1.5));
  });

  it('refuses mixing trim= with trim.<side>, in either order', () => {
    expect(err('trim=1;2;3;4,trim.top=5')).toBe(invalid('trim.top', TRIM_MIX, 5));
    expect(err('trim.top=5,trim=1;2;3;4')).toBe(invalid('trim', TRIM_MIX, '1;2;3;4'));
  });

  it('accepts trim.width and trim.height with trim.left and trim.top', () => {
    expect(ok('trim.width=678,trim.height=600,trim.left=30,trim.top=40').trim).toStrictEqual({
      top: 40,
      right: 0,
      bottom: 0,
      left: 30,
      width: 678,
      height: 600,
    });
    expect(ok('trim.width=5').trim).toStrictEqual({ top: 0, right: 0, bottom: 0, left: 0, width: 5 });
    expect(ok('trim.height=5,trim.top=1').trim).toStrictEqual({
      top: 1,
      right: 0,
      bottom: 0,
      left: 0,
      height: 5,
    });
  });

  it('refuses bad sizes, and a size mixed with its opposite side or with trim=', () => {
    expect(err('trim.width=0')).toBe(
      'Expected positive integer for trim.width but received 0 of type number',
    );
    expect(err('trim.height=x')).toBe(invalid('trim.height', 'positive integer', 'x'));
    expect(err('trim.width=5,trim.right=2')).toBe(
      invalid('trim.right', 'either trim.width or trim.right', 2),
    );
    expect(err('trim.right=2,trim.width=5')).toBe(
      invalid('trim.width', 'either trim.width or trim.right', 5),
    );
    expect(err('trim.bottom=2,trim.height=5')).toBe(
      invalid('trim.height', 'either trim.height or trim.bottom', 5),
    );
    expect(err('trim.height=5,trim.bottom=2')).toBe(
      invalid('trim.bottom', 'either trim.height or trim.bottom', 2),
    );
    expect(err('trim=1;2;3;4,trim.width=5')).toBe(invalid('trim.width', TRIM_MIX, 5));
    expect(ok('trim.right=0,trim.width=5').trim).toStrictEqual({
      top: 0,
      right: 0,
      bottom: 0,
      left: 0,
      width: 5,
    });
  });
});

describe('flip and saturation', () => {
  it('flip is h, v or hv', () => {
    expect(ok('flip=h').flip).toBe('h');
    expect(ok('flip=v').flip).toBe('v');
    expect(ok('flip=hv').flip).toBe('hv');
    expect(err('flip=vh')).toBe('Expected one of h, v, hv for flip but received vh of type string');
    expect(err('flip=')).toBe(invalid('flip', 'one of h, v, hv', ''));
  });

  it('saturation is a number 0..10, and 0 (greyscale) is kept', () => {
    expect(ok('saturation=0').saturation).toBe(0);
    expect(ok('saturation=0.5').saturation).toBe(0.5);
    expect(ok('saturation=10').saturation).toBe(10);
    expect(err('saturation=10.5')).toBe(
      'Expected number between 0 and 10 for saturation but received 10.5 of type number',
    );
    expect(err('saturation=-1')).toBe(invalid('saturation', 'number between 0 and 10', -1));
  });
});

describe('anim and metadata', () => {
  it('anim is true or false', () => {
    expect(ok('anim=false').anim).toBe(false);
    expect(ok('anim=true').anim).toBe(true);
    expect(err('anim=0')).toBe('Expected one of true, false for anim but received 0 of type string');
    expect(err('anim=yes')).toBe(invalid('anim', 'one of true, false', 'yes'));
  });

  it.each(['keep', 'copyright', 'none'] as const)('metadata=%s', (metadata) => {
    expect(ok(`metadata=${metadata}`)).toStrictEqual(defaults({ metadata }));
  });

  it('refuses other metadata modes', () => {
    expect(err('metadata=all')).toBe(
      'Expected one of keep, copyright, none for metadata but received all of type string',
    );
  });
});

describe('brightness, contrast, gamma', () => {
  it.each(['brightness', 'contrast', 'gamma'] as const)('%s accepts numbers 0..10, 0 ignored', (name) => {
    expect(ok(`${name}=0.5`)).toStrictEqual(defaults({ [name]: 0.5 }));
    expect(ok(`${name}=1`)[name]).toBe(1);
    expect(ok(`${name}=10`)[name]).toBe(10);
    expect(ok(`${name}=0`)).toStrictEqual(defaults());
    expect(err(`${name}=10.5`)).toBe(invalid(name, 'number between 0 and 10', 10.5));
    expect(err(`${name}=-1`)).toBe(invalid(name, 'number between 0 and 10', -1));
    expect(err(`${name}=bright`)).toBe(invalid(name, 'number between 0 and 10', 'bright'));
  });

  it('says it word for word', () => {
    expect(err('gamma=11')).toBe('Expected number between 0 and 10 for gamma but received 11 of type number');
  });
});

describe('compression and onerror', () => {
  it('accept their one value and change nothing', () => {
    expect(ok('compression=fast')).toStrictEqual(defaults());
    expect(ok('onerror=redirect')).toStrictEqual(defaults());
    expect(ok('w=10,compression=fast,onerror=redirect')).toStrictEqual(defaults({ width: 10 }));
  });

  it('refuse anything else', () => {
    expect(err('compression=slow')).toBe('Expected fast for compression but received slow of type string');
    expect(err('onerror=ignore')).toBe(invalid('onerror', 'redirect', 'ignore'));
  });
});

describe('list structure', () => {
  const NAMES = `one of ${FLEXIBLE_OPTION_NAMES.join(', ')}`;

  it('refuses an empty segment', () => {
    expect(err('')).toBe(
      'Expected comma-separated list of name=value options for options but received  of type string',
    );
  });

  it('refuses empty items, naming their position', () => {
    expect(err('w=1,,h=2')).toBe('Expected name=value for option 2 but received  of type string');
    expect(err(',w=1')).toBe(invalid('option 1', 'name=value', ''));
    expect(err('w=1,')).toBe(invalid('option 2', 'name=value', ''));
  });

  it('refuses items without = or without a name', () => {
    expect(err('w=1,cover')).toBe('Expected name=value for option 2 but received cover of type string');
    expect(err('=5')).toBe(invalid('option 1', 'name=value', '=5'));
  });

  it('refuses unknown names, listing the known ones', () => {
    expect(err('w=1,zoom=2')).toBe(invalid('option name', NAMES, 'zoom'));
    expect(err('W=100')).toBe(invalid('option name', NAMES, 'W'));
    expect(err('toString=1')).toBe(invalid('option name', NAMES, 'toString'));
    expect(err('__proto__=1')).toBe(invalid('option name', NAMES, '__proto__'));
    expect(err('segment=foreground')).toMatch(
      /^Expected one of width, w, height, h, fit, quality, q, format, f, gravity, g, .* for option name but received segment of type string$/,
    );
  });

  it('refuses an option given twice, also through an alias, naming it canonically', () => {
    expect(err('w=1,w=2')).toBe('Expected at most one value for width but received w=2 of type string');
    expect(err('w=1,width=2')).toBe(invalid('width', 'at most one value', 'width=2'));
    expect(err('width=1,w=2')).toBe(invalid('width', 'at most one value', 'w=2'));
    expect(err('w=auto,width=100')).toBe(invalid('width', 'at most one value', 'width=100'));
    expect(err('h=1,height=1')).toBe(invalid('height', 'at most one value', 'height=1'));
    expect(err('q=1,quality=2')).toBe(invalid('quality', 'at most one value', 'quality=2'));
    expect(err('f=png,format=png')).toBe(invalid('format', 'at most one value', 'format=png'));
    expect(err('g=auto,gravity=left')).toBe(invalid('gravity', 'at most one value', 'gravity=left'));
    expect(err('fit=cover,fit=pad')).toBe(invalid('fit', 'at most one value', 'fit=pad'));
    expect(err('trim.top=1,trim.top=2')).toBe(invalid('trim.top', 'at most one value', 'trim.top=2'));
    expect(err('compression=fast,compression=fast')).toBe(
      invalid('compression', 'at most one value', 'compression=fast'),
    );
  });

  it('reports the first error only, left to right', () => {
    expect(err('w=0,h=0')).toBe(invalid('width', WIDTH, 0));
  });

  it('keeps everything after the first = as the value', () => {
    expect(err('w=1=2')).toBe(invalid('width', WIDTH, '1=2'));
  });
});

describe('percent-decoding', () => {
  it('decodes each value', () => {
    expect(ok('background=%23ff0000').background).toStrictEqual({ r: 255, g: 0, b: 0, alpha: 1 });
    expect(ok('w=%34%30%30').width).toBe(400);
    expect(ok('fit=%63over').fit).toBe('cover');
    expect(ok('g=0.5%780.25').gravity).toStrictEqual({ kind: 'point', x: 0.5, y: 0.25 });
  });

  it('does not decode names', () => {
    expect(err('%77=1')).toBe(invalid('option name', `one of ${FLEXIBLE_OPTION_NAMES.join(', ')}`, '%77'));
  });

  it('refuses a malformed escape, naming the option canonically', () => {
    expect(err('background=%23ff00%')).toBe(
      'Expected percent-encoded value for background but received %23ff00% of type string',
    );
    expect(err('w=%zz')).toBe(invalid('width', 'percent-encoded value', '%zz'));
    expect(err('h=%E0%A4%A')).toBe(invalid('height', 'percent-encoded value', '%E0%A4%A'));
    expect(err('fit=%C3')).toBe(invalid('fit', 'percent-encoded value', '%C3'));
  });
});

describe('FLEXIBLE_OPTION_NAMES and isOptionList', () => {
  it('lists every name and alias of the table', () => {
    expect(FLEXIBLE_OPTION_NAMES).toStrictEqual([
      'width',
      'w',
      'height',
      'h',
      'fit',
      'quality',
      'q',
      'format',
      'f',
      'gravity',
      'g',
      'blur',
      'sharpen',
      'rotate',
      'background',
      'dpr',
      'trim',
      'trim.top',
      'trim.right',
      'trim.bottom',
      'trim.left',
      'trim.width',
      'trim.height',
      'flip',
      'anim',
      'metadata',
      'brightness',
      'contrast',
      'gamma',
      'saturation',
      'compression',
      'onerror',
    ]);
    expect(Object.isFrozen(FLEXIBLE_OPTION_NAMES)).toBe(true);
  });

  it('every listed name is parsed (none falls through to unknown)', () => {
    for (const name of FLEXIBLE_OPTION_NAMES) {
      const r = parseFlexible(`${name}=%%`);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).not.toContain('for option name');
    }
  });

  it('isOptionList tells option lists from variant names', () => {
    expect(isOptionList('w=400,fit=cover')).toBe(true);
    expect(isOptionList('w=1')).toBe(true);
    expect(isOptionList('public')).toBe(false);
    expect(isOptionList('thumbnail')).toBe(false);
    expect(isOptionList('')).toBe(false);
  });
});

describe('parseFlexible: transformation URLs ({ transformation: true })', () => {
  const T = { transformation: true };
  const okT = (segment: string): TransformOptions => {
    const r = parseFlexible(segment, T);
    if (!r.ok) throw new Error(`expected ${segment} to parse, got: ${r.error}`);
    return r.value;
  };
  const FIT_T = 'one of scale-down, contain, cover, crop, pad, squeeze, aspect-crop';
  const FORMAT_T = 'one of auto, avif, webp, jpeg, png, gif, baseline-jpeg, json';

  it('accepts fit=squeeze, fit=aspect-crop and format=json, which variants refuse', () => {
    expect(okT('fit=squeeze').fit).toBe('squeeze');
    expect(okT('fit=aspect-crop').fit).toBe('aspect-crop');
    expect(okT('format=json').format).toBe('json');
    expect(okT('f=webp,fit=cover')).toMatchObject({ format: 'webp', fit: 'cover' });
    expect(err('fit=squeeze')).toBe(
      invalid('fit', 'one of scale-down, contain, cover, crop, pad', 'squeeze'),
    );
    expect(err('format=json')).toBe(
      invalid('format', 'one of auto, avif, webp, jpeg, png, gif, baseline-jpeg', 'json'),
    );
  });

  it('names the longer lists in its sentences', () => {
    const r = parseFlexible('fit=stretch', T);
    expect(r).toStrictEqual({ ok: false, error: invalid('fit', FIT_T, 'stretch') });
    const f = parseFlexible('format=tiff', T);
    expect(f).toStrictEqual({ ok: false, error: invalid('format', FORMAT_T, 'tiff') });
  });

  it('records onerror=redirect; a variant accepts it and records nothing', () => {
    expect(okT('onerror=redirect').onerror).toBe('redirect');
    expect('onerror' in ok('onerror=redirect')).toBe(false);
    expect(parseFlexible('onerror=ignore', T)).toStrictEqual({
      ok: false,
      error: invalid('onerror', 'redirect', 'ignore'),
    });
  });
});

describe('parseFlexible: item splitting edge cases', () => {
  it('a comma inside nested parentheses stays in the item', () => {
    expect(err('background=rgb((1,2),3),w=10')).toBe(invalid('background', COLOUR, 'rgb((1,2),3)'));
  });

  it('a stray closing parenthesis does not swallow the commas after it', () => {
    expect(err('background=red),w=10')).toBe(invalid('background', COLOUR, 'red)'));
    expect(err('w=10),h=5')).toBe(invalid('width', 'integer between 1 and 12000', '10)'));
  });

  it('a colour with spaces around it (percent-encoded) is trimmed', () => {
    expect(ok('background=%20red%20').background).toStrictEqual({ r: 255, g: 0, b: 0, alpha: 1 });
    expect(parseColour('  RebeccaPurple ')).toStrictEqual({ r: 102, g: 51, b: 153, alpha: 1 });
  });
});
