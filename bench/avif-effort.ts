/** AVIF encoder effort against WebP and JPEG for a photo-like 1366×768 output (docs/delivery.md). */
import sharp from 'sharp';
sharp.concurrency(1);
// photo-like: blurred noise over gradients
const W = 2732,
  H = 1536;
const noise = Buffer.alloc(W * H * 3);
for (let i = 0; i < noise.length; i++) noise[i] = Math.random() * 255;
const base = await sharp(noise, { raw: { width: W, height: H, channels: 3 } })
  .blur(3)
  .toBuffer();
const grad = Buffer.alloc(W * H * 3);
for (let y = 0; y < H; y++)
  for (let x = 0; x < W; x++) {
    const i = (y * W + x) * 3;
    grad[i] = (x / W) * 255;
    grad[i + 1] = (y / H) * 255;
    grad[i + 2] = 128;
  }
const img = await sharp(grad, { raw: { width: W, height: H, channels: 3 } })
  .composite([{ input: base, raw: { width: W, height: H, channels: 3 }, blend: 'overlay' }])
  .jpeg({ quality: 90 })
  .toBuffer();
const resized = await sharp(img).resize(1366, 768).raw().toBuffer();
const rs = () => sharp(resized, { raw: { width: 1366, height: 768, channels: 3 } });
async function time(name: string, f: () => Promise<Buffer>) {
  await f();
  const n = 3;
  const t = performance.now();
  let size = 0;
  for (let i = 0; i < n; i++) size = (await f()).length;
  console.log(
    name.padEnd(16),
    ((performance.now() - t) / n).toFixed(1),
    'ms',
    (size / 1024).toFixed(0),
    'KiB',
  );
}
await time('jpeg q85', () => rs().jpeg({ quality: 85 }).toBuffer());
await time('webp q85 e4', () => rs().webp({ quality: 85, effort: 4 }).toBuffer());
for (const e of [0, 1, 2, 3, 4])
  await time(`avif q60 e${e}`, () => rs().avif({ quality: 60, effort: e }).toBuffer());
