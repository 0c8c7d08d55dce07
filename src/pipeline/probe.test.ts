import { crc32, deflateSync } from 'node:zlib';
import sharp, { type Metadata } from 'sharp';
import { describe, expect, it } from 'vitest';
import { contentTypes, factsOf, looksLikeSvg, probe, readFacts } from './probe.js';

const png = (w: number, h: number): Promise<Buffer> =>
  sharp({ create: { width: w, height: h, channels: 3, background: '#123456' } })
    .png()
    .toBuffer();

describe('looksLikeSvg', () => {
  it.each([
    '<svg xmlns="http://www.w3.org/2000/svg"/>',
    '\uFEFF<svg>',
    '<?xml version="1.0"?>\n<!-- c -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n<svg width="1">',
    '<!DOCTYPE svg [ <!ENTITY a "b"> ]><svg/>',
    '  <SVG>',
    '<svg:svg xmlns:svg="http://www.w3.org/2000/svg">',
  ])('recognises %j', (text) => {
    expect(looksLikeSvg(Buffer.from(text))).toBe(true);
  });

  it.each(['<html><svg>', '<svgx>', 'svg', '<?xml version="1.0"?><root/>', '', '<!-- <svg> -->'])(
    'refuses %j',
    (text) => {
      expect(looksLikeSvg(Buffer.from(text))).toBe(false);
    },
  );

  it('looks only at the first 4 KiB', () => {
    expect(looksLikeSvg(Buffer.from(`<!--${' '.repeat(5000)}--><svg>`))).toBe(false);
  });
});

describe('probe', () => {
  it('reads format, content type and size from the bytes', async () => {
    expect(await probe(await png(30, 20))).toStrictEqual({
      format: 'png',
      contentType: 'image/png',
      width: 30,
      height: 20,
      pages: 1,
      facts: { width: 30, height: 20, frames: 1, alpha: false, copyright: null },
    });
    const jpeg = await sharp(await png(8, 9))
      .withExif({ IFD0: { Copyright: 'C' } })
      .jpeg()
      .toBuffer();
    expect(await probe(jpeg)).toStrictEqual({
      format: 'jpeg',
      contentType: 'image/jpeg',
      width: 8,
      height: 9,
      pages: 1,
      facts: { width: 8, height: 9, frames: 1, alpha: false, copyright: 'C' },
    });
    const webp = await sharp(await png(8, 9))
      .webp()
      .toBuffer();
    expect(await probe(webp)).toMatchObject({ format: 'webp', contentType: 'image/webp' });
  });

  it('an animation reports its frames and the frame height', async () => {
    // Three different frames (identical ones would be merged by the GIF encoder).
    const raw = Buffer.concat([0, 100, 200].map((v) => Buffer.alloc(4 * 3 * 3, v)));
    const gif = await sharp(raw, { raw: { width: 4, height: 9, channels: 3, pageHeight: 3 } })
      .gif()
      .toBuffer();
    expect(await probe(gif)).toMatchObject({
      format: 'gif',
      contentType: 'image/gif',
      width: 4,
      height: 3,
      pages: 3,
      facts: { width: 4, height: 3, frames: 3 },
    });
  });

  it('SVG by its root element, also behind an XML declaration', async () => {
    expect(
      await probe(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="5"/>')),
    ).toMatchObject({
      format: 'svg',
      contentType: 'image/svg+xml',
      width: 10,
      height: 5,
      pages: 1,
    });
    expect(
      (
        await probe(
          Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="3" height="4"/>'),
        )
      )?.format,
    ).toBe('svg');
  });

  it('null for empty, non-image and unreadable bytes', async () => {
    expect(await probe(Buffer.alloc(0))).toBeNull();
    expect(await probe(Buffer.from('hello world, not an image'))).toBeNull();
    expect(await probe(Buffer.from('<?xml version="1.0"?><root/>'))).toBeNull();
    const pdf = Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n');
    expect(await probe(pdf)).toBeNull();
    const broken = (await png(30, 20)).subarray(0, 40);
    expect(await probe(broken)).toBeNull();
  });

  it('every format has its content type', () => {
    expect(contentTypes).toStrictEqual({
      jpeg: 'image/jpeg',
      png: 'image/png',
      gif: 'image/gif',
      webp: 'image/webp',
      svg: 'image/svg+xml',
      avif: 'image/avif',
      heic: 'image/heic',
    });
  });
});

/** A PNG chunk with its CRC. */
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** An ISO-BMFF file: an `ftyp` box with the brand, then an empty `mdat` (no decodable image). */
function isobmff(brand: string): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32BE(16, 0);
  b.write('ftyp', 4, 'latin1');
  b.write(brand, 8, 'latin1');
  b.writeUInt32BE(8, 16);
  b.write('mdat', 20, 'latin1');
  return b;
}

const still = (w: number, h: number, channels: 3 | 4 = 3) =>
  sharp({ create: { width: w, height: h, channels, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } });

describe('looksLikeSvg: only what leads the document counts', () => {
  it.each([
    ['a BOM splitting the tag', '<s\uFEFFvg>'],
    ['an XML declaration splitting the tag', '<s<?xml version="1.0"?>vg>'],
    ['a comment splitting the tag', '<sv<!-- x -->g>'],
    ['a doctype splitting the tag', '<sv<!DOCTYPE svg>g>'],
    ['a prefixed svg element that is not the root', '<html><a:svg>'],
  ])('refuses %s', (_label, text) => {
    expect(looksLikeSvg(Buffer.from(text))).toBe(false);
  });

  it('skips several leading blocks in any order', () => {
    expect(looksLikeSvg(Buffer.from('\uFEFF <!-- a -->\n<?xml version="1.0"?> <!-- b --><svg/>'))).toBe(true);
  });
});

describe('probe: every accepted container', () => {
  it('AVIF by its brand, with its size', async () => {
    const avif = await still(8, 4).avif().toBuffer();
    expect(await probe(avif)).toStrictEqual({
      format: 'avif',
      contentType: 'image/avif',
      width: 8,
      height: 4,
      pages: 1,
      facts: { width: 8, height: 4, frames: 1, alpha: false, copyright: null },
    });
  });

  it('APNG (a PNG with an acTL chunk) is a PNG', async () => {
    const png = await still(6, 4, 4).png().toBuffer();
    const actl = Buffer.alloc(8);
    actl.writeUInt32BE(1, 0);
    // After the signature (8 bytes) and IHDR (25 bytes).
    const apng = Buffer.concat([png.subarray(0, 33), chunk('acTL', actl), png.subarray(33)]);
    expect(await probe(apng)).toMatchObject({ format: 'png', contentType: 'image/png', width: 6, height: 4 });
  });

  it.each(['heic', 'heix', 'hevc', 'mif1', 'msf1'])(
    'HEIC/HEIF brand %s without a decodable image: the container, size unknown',
    async (brand) => {
      expect(await probe(isobmff(brand))).toStrictEqual({
        format: 'heic',
        contentType: 'image/heic',
        width: null,
        height: null,
        pages: 1,
        facts: null,
      });
    },
  );

  it('an AVIF container with no readable image is refused (only HEIC may lack a size)', async () => {
    expect(await probe(isobmff('avif'))).toBeNull();
  });

  it('a format sharp reads but Pictor does not accept (TIFF) is refused', async () => {
    expect(await probe(await still(8, 4).tiff().toBuffer())).toBeNull();
  });

  it('reads the size of an image over sharp’s default pixel limit (20000×20000) from its header', async () => {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(20_000, 0);
    ihdr.writeUInt32BE(20_000, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 0; // greyscale
    const huge = Buffer.concat([
      PNG_SIG,
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc(20_001))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    expect(await probe(huge)).toMatchObject({ format: 'png', width: 20_000, height: 20_000 });
  });
});

describe('probe: facts from the header', () => {
  it('alpha is reported', async () => {
    expect((await probe(await still(4, 4, 4).png().toBuffer()))?.facts).toStrictEqual({
      width: 4,
      height: 4,
      frames: 1,
      alpha: true,
      copyright: null,
    });
  });

  it('EXIF orientation 6 swaps the oriented size; the stored size stays as encoded', async () => {
    const jpeg = await still(8, 4).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    expect(await probe(jpeg)).toStrictEqual({
      format: 'jpeg',
      contentType: 'image/jpeg',
      width: 8,
      height: 4,
      pages: 1,
      facts: { width: 4, height: 8, frames: 1, alpha: false, copyright: null },
    });
  });

  it('EXIF without a copyright, or with a blank one, keeps none', async () => {
    const artist = await still(4, 4)
      .withExif({ IFD0: { Artist: 'A' } })
      .jpeg()
      .toBuffer();
    expect((await probe(artist))?.facts?.copyright).toBeNull();
    const blank = await still(4, 4)
      .withExif({ IFD0: { Copyright: '   ' } })
      .jpeg()
      .toBuffer();
    expect((await probe(blank))?.facts?.copyright).toBeNull();
  });
});

describe('factsOf', () => {
  it('falls back to the stored size without autoOrient, and to 0 without a size', () => {
    expect(factsOf({ width: 10, height: 20 } as Metadata)).toStrictEqual({
      width: 10,
      height: 20,
      frames: 1,
      alpha: false,
      copyright: null,
    });
    expect(factsOf({} as Metadata)).toStrictEqual({
      width: 0,
      height: 0,
      frames: 1,
      alpha: false,
      copyright: null,
    });
  });

  it('an animation is one frame high; a quarter-turned one takes the oriented height', () => {
    const anim = { width: 4, height: 9, pages: 3, pageHeight: 3, autoOrient: { width: 4, height: 9 } };
    expect(factsOf({ ...anim, orientation: 4 } as Metadata)).toMatchObject({
      width: 4,
      height: 3,
      frames: 3,
    });
    expect(factsOf(anim as Metadata)).toMatchObject({ height: 3 });
    const turned = { ...anim, autoOrient: { width: 9, height: 4 } };
    expect(factsOf({ ...turned, orientation: 5 } as Metadata)).toMatchObject({ width: 9, height: 4 });
    expect(factsOf({ ...turned, orientation: 6 } as Metadata)).toMatchObject({ width: 9, height: 4 });
  });

  it('a still takes the oriented height even when a page height is reported', () => {
    const m = {
      width: 8,
      height: 4,
      pages: 1,
      pageHeight: 4,
      orientation: 6,
      autoOrient: { width: 4, height: 8 },
    };
    expect(factsOf(m as Metadata)).toMatchObject({ width: 4, height: 8 });
  });

  it('unreadable EXIF keeps no copyright', () => {
    expect(factsOf({ width: 1, height: 1, exif: Buffer.from('not exif') } as Metadata).copyright).toBeNull();
  });
});

describe('readFacts', () => {
  it('names the format as Pictor does (AVIF from HEIF with AV1, JPEG, PNG)', async () => {
    expect(await readFacts(await still(8, 4).avif().toBuffer())).toStrictEqual({
      format: 'avif',
      facts: { width: 8, height: 4, frames: 1, alpha: false, copyright: null },
    });
    const jpeg = await still(8, 4)
      .withExif({ IFD0: { Copyright: 'C' } })
      .jpeg()
      .toBuffer();
    expect(await readFacts(jpeg)).toStrictEqual({
      format: 'jpeg',
      facts: { width: 8, height: 4, frames: 1, alpha: false, copyright: 'C' },
    });
    expect((await readFacts(await still(3, 5, 4).png().toBuffer())).facts).toMatchObject({ alpha: true });
  });

  it('reads an animation’s frames and a header over sharp’s default pixel limit', async () => {
    const raw = Buffer.concat([0, 100, 200].map((v) => Buffer.alloc(4 * 3 * 3, v)));
    const gif = await sharp(raw, { raw: { width: 4, height: 9, channels: 3, pageHeight: 3 } })
      .gif()
      .toBuffer();
    expect(await readFacts(gif)).toMatchObject({ format: 'gif', facts: { width: 4, height: 3, frames: 3 } });
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(20_000, 0);
    ihdr.writeUInt32BE(20_000, 4);
    ihdr[8] = 8;
    const huge = Buffer.concat([
      PNG_SIG,
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc(20_001))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    expect((await readFacts(huge)).facts).toMatchObject({ width: 20_000, height: 20_000 });
  });

  it('rejects bytes sharp cannot read', async () => {
    await expect(readFacts(Buffer.from('not an image'))).rejects.toThrow();
  });
});
