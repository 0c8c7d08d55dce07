/**
 * File parts are read into reused buffers (src/api/multipart.ts): every upload stores exactly its own
 * bytes, whatever the buffer held before and however many uploads run at once, and the buffer goes
 * back to the pool whether the upload is stored or refused.
 *
 * One process always (even under `npm run test:processes`): the pool is looked at in this process,
 * where the server must run for that.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pooledUploadBuffers } from '../../src/api/multipart.js';
import { makeImage } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({ PICTOR_PROCESSES: '1' });
});

afterAll(async () => {
  await s.close();
});

async function upload(data: Buffer, name: string): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(data)]), name);
  const res = await fetch(`${s.apiBase}/accounts/${s.accountId}/images/v1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.token}` },
    body: form,
  });
  return { status: res.status, body: await res.json() };
}

async function stored(
  id: string,
): Promise<{ length: number; format?: string; width?: number; height?: number }> {
  const res = await fetch(`${s.apiBase}/accounts/${s.accountId}/images/v1/${encodeURIComponent(id)}/blob`, {
    headers: { authorization: `Bearer ${s.token}` },
  });
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  const m = await sharp(bytes).metadata();
  return { length: bytes.length, format: m.format, width: m.width, height: m.height };
}

describe('upload buffers', () => {
  it('a small upload after a large one stores only its own bytes', async () => {
    const large = await makeImage('png', 1200, 900);
    const small = await makeImage('jpeg', 64, 48);
    expect(large.length).toBeGreaterThan(small.length * 10);
    const a = await upload(large, 'large.png');
    const b = await upload(small, 'small.jpg');
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(await stored(a.body.result.id)).toEqual({
      length: large.length,
      format: 'png',
      width: 1200,
      height: 900,
    });
    expect(await stored(b.body.result.id)).toEqual({
      length: small.length,
      format: 'jpeg',
      width: 64,
      height: 48,
    });
  });

  it('concurrent uploads each store their own image', async () => {
    const sizes = [
      [640, 480],
      [33, 77],
      [500, 20],
      [128, 128],
      [900, 700],
      [17, 300],
    ] as const;
    const images = await Promise.all(sizes.map(([w, h], i) => makeImage(i % 2 ? 'png' : 'jpeg', w, h)));
    const results = await Promise.all(images.map((data, i) => upload(data, `c${i}`)));
    for (const [i, r] of results.entries()) {
      expect(r.status).toBe(200);
      const got = await stored(r.body.result.id);
      expect(got).toEqual({
        length: images[i]!.length,
        format: i % 2 ? 'png' : 'jpeg',
        width: sizes[i]![0],
        height: sizes[i]![1],
      });
    }
  });

  it('the buffer returns to the pool after a stored and after a refused upload', async () => {
    const before = pooledUploadBuffers();
    expect(before).toBeGreaterThan(0);
    const ok = await upload(await makeImage('png', 40, 30), 'ok.png');
    expect(ok.status).toBe(200);
    expect(pooledUploadBuffers()).toBe(before);
    const refused = await upload(Buffer.from('not an image at all'), 'x.bin');
    expect(refused.status).toBe(415);
    expect(pooledUploadBuffers()).toBe(before);
  });
});
