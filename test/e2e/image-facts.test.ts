/**
 * An image's facts (oriented size, frames, alpha, EXIF copyright) are read once at upload and stored
 * with its row (migration 0004_image_facts); delivery plans from the row and never reads the header
 * again. Rows written before the migration (facts null) are filled in by their first rendition.
 *
 * The store is opened beside the running server (the same SQLite file, or the same PostgreSQL schema
 * under PICTOR_TEST_BACKEND=postgres / scale-out), so what is checked is the row itself.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageFacts, ImageRecord } from '../../src/core/types.js';
import { createPostgresMetadataStore } from '../../src/storage/postgres/index.js';
import { createSqliteMetadataStore } from '../../src/storage/sqlite/index.js';
import type { MetadataStore } from '../../src/storage/types.js';
import { TEST_DATABASE_URL } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let store: MetadataStore;
let hash: string;

beforeAll(async () => {
  server = await startTestServer();
  store = server.databaseSchema
    ? createPostgresMetadataStore({ connectionString: TEST_DATABASE_URL, schema: server.databaseSchema })
    : createSqliteMetadataStore({ filename: join(server.dataDir, 'pictor.sqlite') });
  await store.migrate();
  hash = (await store.getAccount(server.accountId))!.hash;
});

afterAll(async () => {
  await store?.close();
  await server?.close();
});

async function upload(data: Buffer, id: string): Promise<ImageRecord> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(data)]), `${id}.bin`);
  form.append('id', id);
  const res = await fetch(`${server.apiBase}/accounts/${server.accountId}/images/v1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}` },
    body: form,
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await store.getImage(server.accountId, id))!;
}

function deliver(id: string, last: string): Promise<Response> {
  return fetch(`${server.url}/cdn-cgi/imagedelivery/${hash}/${id}/${last}`, {
    headers: { accept: 'image/png' },
  });
}

/** Clears the facts columns, as a row written before migration 0004 has them. */
async function clearFacts(id: string): Promise<void> {
  const sql = `UPDATE images SET oriented_width = NULL, oriented_height = NULL, frames = NULL, alpha = NULL, copyright = NULL WHERE id = `;
  if (server.databaseSchema) {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(`SET search_path TO ${server.databaseSchema}`);
      await client.query(`${sql}$1`, [id]);
    } finally {
      await client.end();
    }
  } else {
    const db = new Database(join(server.dataDir, 'pictor.sqlite'));
    try {
      db.prepare(`${sql}?`).run(id);
    } finally {
      db.close();
    }
  }
}

describe('facts stored at upload', () => {
  it('a JPEG with EXIF orientation 6: the oriented size (sides swapped), one frame, no alpha, the copyright', async () => {
    const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#808080' } })
      .jpeg()
      .withExif({ IFD0: { Copyright: 'Pictor Test 2026' } })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);
    const row = await upload(jpeg, 'facts-jpeg');
    expect(row.format).toBe('jpeg');
    expect(row.facts).toEqual({
      width: 200,
      height: 300,
      frames: 1,
      alpha: false,
      copyright: 'Pictor Test 2026',
    } satisfies ImageFacts);
  });

  it('a PNG with alpha', async () => {
    const png = await sharp({
      create: { width: 64, height: 32, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } },
    })
      .png()
      .toBuffer();
    const row = await upload(png, 'facts-png');
    expect(row.format).toBe('png');
    expect(row.facts).toEqual({ width: 64, height: 32, frames: 1, alpha: true, copyright: null });
  });

  it("an animated GIF: one frame's size and the frame count", async () => {
    const frames = 3;
    // Frames that differ (identical frames may be merged by the encoder).
    const raw = Buffer.alloc(40 * 30 * frames * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (Math.floor(i / (40 * 30 * 3)) * 90 + (i % 7) * 20) % 256;
    const gif = await sharp(raw, { raw: { width: 40, height: 30 * frames, channels: 3, pageHeight: 30 } })
      .gif({ delay: [100, 100, 100], loop: 0 })
      .toBuffer();
    expect((await sharp(gif, { animated: true }).metadata()).pages).toBe(frames);
    const row = await upload(gif, 'facts-gif');
    expect(row.format).toBe('gif');
    // libvips loads every GIF with an alpha channel (GIF transparency is per palette entry).
    expect(row.facts).toEqual({ width: 40, height: 30, frames: 3, alpha: true, copyright: null });
  });
});

describe('delivery plans from the row', () => {
  it('follows the stored facts, not the header: facts over the limits refuse a small image with 9413', async () => {
    const png = await sharp({ create: { width: 50, height: 50, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    const row = await upload(png, 'facts-planned');
    // The header says 50×50; the row now says 13,000 px a side. Delivery must believe the row.
    expect(
      await store.setImageFacts(server.accountId, row.id, row.blobKey!, {
        width: 13_000,
        height: 13_000,
        frames: 1,
        alpha: false,
        copyright: null,
      }),
    ).toBe(true);
    const res = await deliver(row.id, 'public');
    expect(res.status).toBe(403);
    expect(res.headers.get('cf-resized')).toBe('err=9413');
  });

  it('plans the output size from the stored oriented size', async () => {
    const png = await sharp({ create: { width: 3000, height: 1000, channels: 3, background: '#654321' } })
      .png()
      .toBuffer();
    const row = await upload(png, 'facts-size');
    // The stored facts say 1000×3000 (portrait). `public` scales down into 1366×768: planned from
    // the row that is 256×768; planned from the header (3000×1000) it would be 1366×455.
    await store.setImageFacts(server.accountId, row.id, row.blobKey!, {
      width: 1000,
      height: 3000,
      frames: 1,
      alpha: false,
      copyright: null,
    });
    const res = await deliver(row.id, 'public');
    expect(res.status).toBe(200);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([256, 768]);
  });

  it('a row without facts (written before they were kept) is filled in by its first rendition', async () => {
    const png = await sharp({
      create: { width: 90, height: 60, channels: 4, background: { r: 9, g: 9, b: 9, alpha: 1 } },
    })
      .png()
      .toBuffer();
    const row = await upload(png, 'facts-old-row');
    await clearFacts(row.id);
    expect((await store.getImage(server.accountId, row.id))?.facts).toBeNull();
    const res = await deliver(row.id, 'public');
    expect(res.status).toBe(200);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([90, 60]);
    const after = await store.getImage(server.accountId, row.id);
    expect(after?.facts).toEqual({ width: 90, height: 60, frames: 1, alpha: true, copyright: null });
    // Recording facts changes no cache key.
    expect(after?.version).toBe(row.version);
  });
});
