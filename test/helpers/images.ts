/** Test images generated with sharp (no binary fixtures in git). */
import sharp from 'sharp';

/** A photo-like image: a gradient with some noise, so it compresses like a photo. */
export async function makeImage(
  format: 'png' | 'jpeg' | 'webp' | 'gif' | 'avif',
  width = 320,
  height = 240,
): Promise<Buffer> {
  const channels = 3;
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      raw[i] = Math.round((x / width) * 255);
      raw[i + 1] = Math.round((y / height) * 255);
      raw[i + 2] = (x * 7 + y * 13) % 256;
    }
  }
  return sharp(raw, { raw: { width, height, channels } }).toFormat(format).toBuffer();
}

export const SVG = Buffer.from(
  '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><rect width="100" height="50" fill="red"/></svg>',
);
