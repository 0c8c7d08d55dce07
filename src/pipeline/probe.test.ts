import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { contentTypes, looksLikeSvg, probe } from './probe.js';

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
