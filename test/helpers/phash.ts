/**
 * Perceptual similarity for tests: dHash (the gradient hash of sharp's own test fixtures,
 * `fingerprint`/`assertSimilar`, after http://www.hackerfactor.com/blog/index.php?/archives/529-Kind-of-Like-That.html).
 * Flatten onto white, greyscale, normalise, resize to 9×8 ignoring the aspect ratio, then one bit
 * per pair of horizontally adjacent pixels (left < right): 8 rows × 8 pairs = 64 bits. Two images
 * are "similar" when the Hamming distance of their hashes is at most 5 (sharp's default threshold).
 *
 * Unlike sharp's fixture (which indexes `row * 8 + col` into 9-wide rows), this reads the 9-wide
 * rows correctly, so every bit is a genuine adjacent-pixel comparison.
 */
import sharp from 'sharp';

/** sharp's default `assertSimilar` threshold. */
export const SIMILARITY_THRESHOLD = 5;

/**
 * The 64-bit dHash of an image, as a string of '0'/'1' (row by row, left to right).
 * @example await dHash(await sharp(input).resize(100).toBuffer()) // '0110…' (64 characters)
 */
export async function dHash(image: Buffer): Promise<string> {
  const { data, info } = await sharp(image, { animated: false })
    .flatten({ background: '#ffffff' })
    .greyscale()
    .normalise()
    .resize(9, 8, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const ch = info.channels;
  if (info.width !== 9 || info.height !== 8)
    throw new Error(`dHash: expected 9×8, got ${info.width}×${info.height}`);
  let bits = '';
  for (let row = 0; row < 8; row++) {
    for (let col = 0; col < 8; col++) {
      const left = data[(row * 9 + col) * ch]!;
      const right = data[(row * 9 + col + 1) * ch]!;
      bits += left < right ? '1' : '0';
    }
  }
  return bits;
}

/** Number of differing bits of two equal-length bit strings. */
export function hamming(a: string, b: string): number {
  if (a.length !== b.length) throw new Error(`hamming: lengths differ (${a.length} vs ${b.length})`);
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

/** The Hamming distance between the dHashes of two images. */
export async function dHashDistance(a: Buffer, b: Buffer): Promise<number> {
  const [ha, hb] = await Promise.all([dHash(a), dHash(b)]);
  return hamming(ha, hb);
}
