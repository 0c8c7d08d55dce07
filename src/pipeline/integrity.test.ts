import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isComplete } from './integrity.js';

async function sample(format: 'jpeg' | 'png' | 'webp' | 'gif' | 'avif'): Promise<Buffer> {
  const raw = Buffer.alloc(64 * 48 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 256;
  return sharp(raw, { raw: { width: 64, height: 48, channels: 3 } })
    .toFormat(format)
    .toBuffer();
}

describe('isComplete', () => {
  for (const format of ['jpeg', 'png', 'webp', 'gif', 'avif'] as const) {
    it(`${format}: a whole file passes; cut at 50%, 90%, or 20, 10 or 1 bytes short it fails`, async () => {
      const whole = await sample(format);
      expect(isComplete(whole, format)).toBe(true);
      for (const cut of [
        Math.floor(whole.length / 2),
        Math.floor(whole.length * 0.9),
        whole.length - 20,
        whole.length - 10,
        whole.length - 1,
      ]) {
        expect(isComplete(whole.subarray(0, cut), format), `${format} cut at ${cut}/${whole.length}`).toBe(
          false,
        );
      }
    });
  }

  it('trailing bytes after a complete image do not make it incomplete (JPEG + ZIP, PNG + HTML)', async () => {
    const jpeg = await sample('jpeg');
    const png = await sample('png');
    expect(isComplete(Buffer.concat([jpeg, Buffer.from('PK\x03\x04 zip data')]), 'jpeg')).toBe(true);
    expect(isComplete(Buffer.concat([png, Buffer.from('<html><script>x</script></html>')]), 'png')).toBe(
      true,
    );
  });

  it('SVG has no binary structure to check', () => {
    expect(isComplete(Buffer.from('<svg/>'), 'svg')).toBe(true);
  });
});

/** Bytes from numbers and latin1 strings. */
const bytes = (...parts: (number | string | number[] | Buffer)[]): Buffer =>
  Buffer.concat(
    parts.map((p) =>
      Buffer.isBuffer(p)
        ? p
        : typeof p === 'string'
          ? Buffer.from(p, 'latin1')
          : Buffer.from(typeof p === 'number' ? [p] : p),
    ),
  );

describe('isComplete: JPEG structure', () => {
  it('needs a start-of-scan before the end-of-image marker', () => {
    expect(isComplete(bytes([0xff, 0xd8], 0, [0xff, 0xd9]), 'jpeg')).toBe(false);
    expect(isComplete(bytes([0xff, 0xd8, 0xff, 0xd9]), 'jpeg')).toBe(false);
    expect(isComplete(bytes([0xff, 0xd8, 0xff, 0xda], 1, 2, 3, [0xff, 0xd9]), 'jpeg')).toBe(true);
    // An EOI only before the scan (in a thumbnail, say) does not count.
    expect(isComplete(bytes([0xff, 0xd8, 0xff, 0xd9, 0xff, 0xda], 1, 2, 3), 'jpeg')).toBe(false);
  });
});

describe('isComplete: PNG structure', () => {
  const SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const IEND = [0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];
  it('needs the IEND chunk after the signature and a length field', () => {
    expect(isComplete(bytes(SIG, IEND), 'png')).toBe(false);
    expect(isComplete(bytes(SIG, [0, 0, 0, 0], IEND), 'png')).toBe(true);
  });
});

describe('isComplete: WebP structure', () => {
  const riff = (size: number, total: number): Buffer => {
    const b = Buffer.alloc(total);
    b.write('RIFF', 0, 'latin1');
    b.writeUInt32LE(size, 4);
    if (total >= 12) b.write('WEBP', 8, 'latin1');
    return b;
  };
  it('needs the 12-byte header and the bytes the RIFF size promises', () => {
    expect(isComplete(riff(0, 8), 'webp')).toBe(false);
    expect(isComplete(riff(4, 11), 'webp')).toBe(false);
    expect(isComplete(riff(4, 12), 'webp')).toBe(true);
    expect(isComplete(riff(100, 108), 'webp')).toBe(true);
    expect(isComplete(riff(100, 107), 'webp')).toBe(false);
    expect(isComplete(riff(100, 100), 'webp')).toBe(false);
  });
});

describe('isComplete: GIF block structure', () => {
  /** Header and logical screen descriptor; `gct` adds a global colour table of 2 entries. */
  const head = (gct: boolean): Buffer =>
    bytes('GIF89a', [1, 0, 1, 0], gct ? 0x80 : 0x00, [0, 0], gct ? [0, 0, 0, 255, 255, 255] : []);
  /** An image descriptor (1×1), optionally with a 2-entry local colour table, and its data. */
  const image = (lct: boolean): Buffer =>
    bytes(
      0x2c,
      [0, 0, 0, 0, 1, 0, 1, 0],
      lct ? 0x80 : 0x00,
      lct ? [0, 0, 0, 0, 0, 0] : [],
      2,
      [2, 0x4c, 0x01],
      0,
    );
  const GCE = bytes(0x21, 0xf9, [4, 0, 0, 0, 0], 0);

  it('a minimal GIF with and without colour tables is complete', () => {
    expect(isComplete(bytes(head(true), image(false), 0x3b), 'gif')).toBe(true);
    expect(isComplete(bytes(head(false), image(false), 0x3b), 'gif')).toBe(true);
    expect(isComplete(bytes(head(false), image(true), 0x3b), 'gif')).toBe(true);
    expect(isComplete(bytes(head(true), GCE, image(true), GCE, image(false), 0x3b), 'gif')).toBe(true);
  });

  it('a trailer with no image before it is not a GIF', () => {
    expect(isComplete(bytes(head(false), 0x3b), 'gif')).toBe(false);
    expect(isComplete(bytes(head(true), GCE, 0x3b), 'gif')).toBe(false);
  });

  it('fails without the trailer, inside a descriptor, or shorter than the screen descriptor', () => {
    expect(isComplete(bytes(head(false), image(false)), 'gif')).toBe(false);
    expect(isComplete(bytes(head(false), 0x2c, [0, 0, 0, 0, 1]), 'gif')).toBe(false);
    expect(isComplete(bytes('GIF89a', [1, 0]), 'gif')).toBe(false);
    const whole = bytes(head(false), image(true), 0x3b);
    for (let cut = 1; cut < whole.length; cut++)
      expect(isComplete(whole.subarray(0, cut), 'gif')).toBe(false);
  });

  it('an unknown block byte makes it incomplete', () => {
    const stray = bytes(head(false), 0x99, [0, 0, 0, 0, 1, 0, 1, 0], 0x00, 2, 0, 0x3b);
    expect(isComplete(stray, 'gif')).toBe(false);
  });
});

describe('isComplete: ISO-BMFF boxes (AVIF, HEIC)', () => {
  const box = (type: string, payload: number): Buffer => {
    const b = Buffer.alloc(8 + payload);
    b.writeUInt32BE(8 + payload, 0);
    b.write(type, 4, 'latin1');
    return b;
  };
  const ftyp = box('ftyp', 8);

  it('needs an mdat box', () => {
    expect(isComplete(ftyp, 'avif')).toBe(false);
    expect(isComplete(bytes(ftyp, box('meta', 4)), 'heic')).toBe(false);
    expect(isComplete(bytes(ftyp, box('mdat', 4)), 'avif')).toBe(true);
    expect(isComplete(bytes(ftyp, box('mdat', 0)), 'avif')).toBe(true);
  });

  it('fails when a box runs past the end or is smaller than its header', () => {
    expect(isComplete(bytes(ftyp, box('mdat', 4)).subarray(0, 27), 'avif')).toBe(false);
    const tiny = Buffer.alloc(8);
    tiny.writeUInt32BE(4, 0);
    tiny.write('mdat', 4, 'latin1');
    expect(isComplete(tiny, 'avif')).toBe(false);
  });

  it('a size of 0 runs to the end of the file', () => {
    const last = box('mdat', 20);
    last.writeUInt32BE(0, 0);
    expect(isComplete(bytes(ftyp, last), 'avif')).toBe(true);
  });

  it('a size of 1 is followed by a 64-bit size', () => {
    const large = (declared: number, total: number): Buffer => {
      const b = Buffer.alloc(total);
      b.writeUInt32BE(1, 0);
      b.write('mdat', 4, 'latin1');
      if (total >= 16) b.writeBigUInt64BE(BigInt(declared), 8);
      return b;
    };
    expect(isComplete(bytes(ftyp, large(24, 24)), 'avif')).toBe(true);
    // A header-only mdat with a 64-bit size, ending the file exactly.
    expect(isComplete(bytes(ftyp, large(16, 16)), 'avif')).toBe(true);
    expect(isComplete(bytes(ftyp, large(24, 24), box('free', 0)), 'avif')).toBe(true);
    expect(isComplete(bytes(ftyp, large(40, 24)), 'avif')).toBe(false);
    expect(isComplete(bytes(ftyp, large(24, 12)), 'avif')).toBe(false);
    expect(isComplete(bytes(ftyp, large(4, 24)), 'avif')).toBe(false);
  });
});
