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
    it(`${format}: a whole file passes; cut at 50%, 90% or 20 bytes short it fails`, async () => {
      const whole = await sample(format);
      expect(isComplete(whole, format)).toBe(true);
      for (const cut of [Math.floor(whole.length / 2), Math.floor(whole.length * 0.9), whole.length - 20]) {
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
