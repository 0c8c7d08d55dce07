/**
 * An SVG stored before the css-tree sanitiser (its row has no `svg_sanitizer`, as every row migrated by
 * 0004_svg_sanitizer_version) is cleaned again by the current sanitiser on its first blob read or
 * delivery, and the row is moved to the clean blob. The stored bytes are the first sanitiser's real
 * output for a newline-broken CSS string that hides a live `url()` (test/fixtures/svg-legacy/).
 *
 * The pre-change state is written into the embedded store's own files (SQLite row, blob file) while
 * the server is stopped, so this suite always runs on the embedded store whatever PICTOR_TEST_BACKEND says.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { SVG_SANITIZER_VERSION } from '../../src/pipeline/svg-sanitize.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import { createFsBlobStore } from '../../src/storage/fs/index.js';
import {
  accountHashOf,
  cdnUrl,
  fetchBytes,
  show,
  upload,
  type DeliveryServer,
  type ImageJson,
} from '../helpers/delivery.js';
import { TEST_ACCOUNT_ID, TEST_PROCESSES, TEST_TOKEN } from '../helpers/server.js';

const LEGACY = readFileSync(
  join(import.meta.dirname, '..', 'fixtures', 'svg-legacy', 'stored-by-sanitiser-v1.svg'),
);
const HIDDEN_URL = 'http://127.0.0.1:9/nl/';
const BENIGN = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="20" height="20"/></svg>',
);

interface Row {
  blob_key: string;
  svg_sanitizer: number | null;
  version: number;
}

describe('SVGs stored under an older sanitiser are cleaned again on first read', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pictor-resanitise-'));
  let server: RunningServer;
  let srv: DeliveryServer;
  const images: Record<string, ImageJson> = {};

  const start = async (): Promise<void> => {
    const config = loadConfig({
      PICTOR_PROCESSES: TEST_PROCESSES,
      PORT: '0',
      HOST: '127.0.0.1',
      PICTOR_DATA_DIR: dataDir,
      PICTOR_ACCOUNT_ID: TEST_ACCOUNT_ID,
      PICTOR_API_TOKEN: TEST_TOKEN,
      LOG_LEVEL: 'silent',
      PICTOR_METRICS_PORT: '0',
    });
    server = await startServer(config, { quiet: true });
    srv = {
      url: server.url,
      metricsUrl: server.metricsUrl!,
      images: `${server.url}/client/v4/accounts/${TEST_ACCOUNT_ID}/images`,
      deliveryUrl: undefined,
      accountId: TEST_ACCOUNT_ID,
      token: TEST_TOKEN,
      dataDir,
      close: async () => {
        await server.close();
      },
    };
  };
  const row = (id: string): Row => {
    const db = new Database(join(dataDir, 'pictor.sqlite'), { readonly: true });
    try {
      return db.prepare('SELECT blob_key, svg_sanitizer, version FROM images WHERE id = ?').get(id) as Row;
    } finally {
      db.close();
    }
  };
  const blobFile = (key: string): string => join(dataDir, 'blobs', ...key.split('/'));

  beforeAll(async () => {
    await start();
    for (const id of ['legacy-blob', 'legacy-delivery', 'current'])
      images[id] = await upload(srv, BENIGN, { id, filename: `${id}.svg` });
    await server.close();
    // Back to the state before this change: the first sanitiser's output stored, no version recorded.
    const db = new Database(join(dataDir, 'pictor.sqlite'));
    db.prepare("UPDATE images SET svg_sanitizer = NULL WHERE id IN ('legacy-blob', 'legacy-delivery')").run();
    db.close();
    const blobs = createFsBlobStore({ root: join(dataDir, 'blobs') });
    for (const id of ['legacy-blob', 'legacy-delivery']) await blobs.put(row(id).blob_key, LEGACY);
    await blobs.close();
    await start();
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('an upload records the current sanitiser version', () => {
    expect(row('current').svg_sanitizer).toBe(SVG_SANITIZER_VERSION);
    expect(row('legacy-blob').svg_sanitizer).toBeNull();
  });

  it('the first blob read cleans the stored document, moves the row to the clean blob and removes the old one', async () => {
    const before = row('legacy-blob');
    expect(readFileSync(blobFile(before.blob_key), 'utf8')).toContain(HIDDEN_URL);
    const res = await fetchBytes(`${srv.images}/v1/legacy-blob/blob`, {
      authorization: `Bearer ${srv.token}`,
    });
    expect(res.status, show(res)).toBe(200);
    const text = res.body.toString('utf8');
    expect(text).not.toContain(HIDDEN_URL);
    expect(text).toMatch(/<style>/);
    const after = row('legacy-blob');
    expect(after.svg_sanitizer).toBe(SVG_SANITIZER_VERSION);
    expect(after.blob_key).not.toBe(before.blob_key);
    expect(after.version).toBeGreaterThan(before.version);
    expect(readFileSync(blobFile(after.blob_key))).toEqual(res.body);
    expect(existsSync(blobFile(before.blob_key))).toBe(false);
    // Once is enough: the next read changes nothing.
    await fetchBytes(`${srv.images}/v1/legacy-blob/blob`, { authorization: `Bearer ${srv.token}` });
    expect(row('legacy-blob')).toEqual(after);
  });

  it('the first delivery does the same, and the blob then returns the clean document', async () => {
    const before = row('legacy-delivery');
    const url = cdnUrl(srv, accountHashOf(images['legacy-delivery']!), 'legacy-delivery', 'public');
    const res = await fetchBytes(url);
    expect(res.status, show(res)).toBe(200);
    expect(res.body.toString('utf8')).not.toContain(HIDDEN_URL);
    const after = row('legacy-delivery');
    expect(after.svg_sanitizer).toBe(SVG_SANITIZER_VERSION);
    expect(after.blob_key).not.toBe(before.blob_key);
    expect(readFileSync(blobFile(after.blob_key), 'utf8')).not.toContain(HIDDEN_URL);
    const again = await fetchBytes(url);
    expect(again.status).toBe(200);
    expect(again.body.toString('utf8')).not.toContain(HIDDEN_URL);
  });

  it('an image stored under the current rules is left as it is', async () => {
    const before = row('current');
    const res = await fetchBytes(`${srv.images}/v1/current/blob`, { authorization: `Bearer ${srv.token}` });
    expect(res.status).toBe(200);
    expect(row('current')).toEqual(before);
  });
});
