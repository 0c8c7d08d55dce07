/**
 * The ingest path on the real SQLite store and blob files: how many store calls and SQL statements an
 * upload and a direct-upload completion cost, that inspection waits in the image gate, and that a
 * refused commit leaves no blob.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.js';
import type { Account } from '../core/types.js';
import { Gate } from '../pipeline/gate.js';
import { createFsBlobStore } from '../storage/fs/index.js';
import { createSqliteMetadataStore } from '../storage/sqlite/index.js';
import type { MetadataStore } from '../storage/types.js';
import { AccountsService } from './accounts.js';
import { DirectUploadService } from './direct-upload.js';
import { Ingest } from './ingest.js';

const urlFetch = {
  policy: { allow: [] },
  maxBytes: 10 * 1024 * 1024,
  maxRedirects: 0,
  connectTimeoutMs: 1000,
  totalTimeoutMs: 1000,
};

/** Every SQL statement better-sqlite3 runs in this process (Kysely's driver calls all/run/iterate). */
function recordStatements(): { sql: string[]; restore(): void } {
  const probe = new BetterSqlite3(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, unknown>;
  probe.close();
  const sql: string[] = [];
  const originals = new Map<string, unknown>();
  for (const m of ['run', 'all', 'get', 'iterate']) {
    const original = proto[m] as (...a: unknown[]) => unknown;
    originals.set(m, original);
    proto[m] = function (this: { source: string }, ...a: unknown[]) {
      sql.push(this.source);
      return original.apply(this, a);
    };
  }
  return {
    sql,
    restore: () => {
      for (const [m, f] of originals) proto[m] = f;
    },
  };
}

describe('ingest', () => {
  let dir: string;
  let raw: ReturnType<typeof createSqliteMetadataStore>;
  let account: Account;
  let png: Buffer;
  const calls: string[] = [];
  let store: MetadataStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pictor-ingest-'));
    raw = createSqliteMetadataStore({ filename: join(dir, 'db.sqlite') });
    await raw.migrate();
    store = new Proxy(raw, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          calls.push(String(prop));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    account = await new AccountsService({ store: raw, clock: systemClock, imageAllowance: 3 }).create();
    png = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } })
      .png()
      .toBuffer();
  });

  afterAll(async () => {
    await raw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const blobFiles = () => {
    const root = join(dir, 'blobs', 'originals');
    try {
      return readdirSync(root).filter((f) => !f.includes('.tmp'));
    } catch {
      return [];
    }
  };

  const make = (gate = new Gate(2, 8)) => {
    const blobs = createFsBlobStore({ root: join(dir, 'blobs') });
    const ingest = new Ingest({ store, blobs, clock: systemClock, gate, urlFetch });
    return { ingest, drafts: new DirectUploadService({ store, clock: systemClock, ingest }) };
  };

  it('an upload costs one store call (one transaction of 4 statements, 5 with metadata)', async () => {
    const { ingest } = make();
    const rec = recordStatements();
    try {
      calls.length = 0;
      rec.sql.length = 0;
      await ingest.upload({ accountId: account.id, file: { data: png, filename: 'a.png' } });
      expect(calls).toEqual(['insertImage']);
      expect(rec.sql).toHaveLength(4);
      expect(rec.sql[0]).toBe('begin immediate');
      expect(rec.sql[3]).toBe('commit');

      calls.length = 0;
      rec.sql.length = 0;
      await ingest.upload({
        accountId: account.id,
        file: { data: png, filename: 'b.png' },
        metadata: { a: 1 },
      });
      expect(calls).toEqual(['insertImage']);
      expect(rec.sql).toHaveLength(5);
    } finally {
      rec.restore();
    }
  });

  it('a completion costs two store calls (the draft read, then one transaction of 6 statements)', async () => {
    const { drafts } = make();
    await drafts.create(account.id, { id: 'd/1', metadata: { k: 'v' } });
    const rec = recordStatements();
    try {
      calls.length = 0;
      rec.sql.length = 0;
      const image = await drafts.complete(account.id, 'd/1', { data: png, filename: null });
      expect(calls).toEqual(['getImage', 'completeDraft']);
      // select; begin, select, delete index rows, delete draft, insert, insert index rows, commit
      expect(rec.sql).toHaveLength(8);
      expect(image).toMatchObject({ id: 'd/1', draft: false, filename: '1', meta: { k: 'v' }, version: 2 });
      expect(await raw.getImage(account.id, 'd/1')).toEqual(image);
    } finally {
      rec.restore();
    }
  });

  it('a refused commit (quota) leaves no blob behind', async () => {
    const { ingest } = make();
    // Allowance 3: two uploads and one completion above filled it.
    const before = blobFiles().length;
    await expect(
      ingest.upload({ accountId: account.id, file: { data: png, filename: 'c.png' } }),
    ).rejects.toMatchObject({ code: 5453 });
    expect(blobFiles().length).toBe(before);
  });

  it('inspection waits in the image gate: a full gate answers 9503 and writes nothing', async () => {
    const gate = new Gate(1, 0);
    const { ingest } = make(gate);
    let release!: () => void;
    const held = gate.run(() => new Promise<void>((r) => (release = r)));
    const before = blobFiles().length;
    calls.length = 0;
    await expect(
      ingest.upload({ accountId: account.id, file: { data: png, filename: 'd.png' } }),
    ).rejects.toMatchObject({ code: 9503, status: 503 });
    expect(calls).toEqual([]);
    expect(blobFiles().length).toBe(before);
    release();
    await held;
  });
});
