import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect, afterAll } from 'vitest';
import { metadataStoreContract } from '../contract/metadata.contract.js';
import { createSqliteMetadataStore, Headroom, HEADROOM_BYTES } from './index.js';

metadataStoreContract({
  name: 'sqlite :memory:',
  create: async () => createSqliteMetadataStore({ filename: ':memory:' }),
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pictor-sqlite-'));
let n = 0;
const nextFile = (): string => path.join(dir, `store-${++n}.db`);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

metadataStoreContract({
  name: 'sqlite file',
  create: async () => createSqliteMetadataStore({ filename: nextFile() }),
});

describe('sqlite file store', () => {
  it('keeps rows across close and reopen', async () => {
    const filename = nextFile();
    const accountId = 'a'.repeat(32);
    const account = {
      id: accountId,
      hash: 'AAAAAAAAAAAAAAAAAAAAAA',
      allowance: 10,
      flexibleVariants: true,
      browserTtl: 60,
      createdAt: 1_700_000_000_000,
    };
    const key = { accountId, name: 'default', value: 'secret-value', createdAt: 1_700_000_000_000 };
    const variant = {
      accountId,
      id: 'public',
      options: { fit: 'scale-down' as const, metadata: 'none' as const, width: 100 },
      neverRequireSignedURLs: false,
      version: 1,
      createdAt: 1_700_000_000_000,
    };
    const image = {
      accountId,
      id: 'persisted',
      filename: 'p.png',
      meta: { emoji: '🖼️', cjk: '写真' },
      creator: null,
      requireSignedURLs: false,
      uploaded: 1_700_000_000_001,
      blobKey: 'blob-persisted',
      contentType: 'image/png',
      format: 'png' as const,
      size: 10,
      width: 1,
      height: 1,
      facts: { width: 1, height: 1, frames: 1, alpha: false, copyright: null },
      draft: false,
      expiresAt: null,
      version: 1,
    };

    const first = createSqliteMetadataStore({ filename });
    await first.migrate();
    await first.createAccount(account, { variants: [variant], keys: [key] });
    expect(await first.insertImage(image)).toBe('ok');
    await first.close();

    const second = createSqliteMetadataStore({ filename });
    try {
      await second.migrate();
      expect(await second.getAccount(accountId)).toEqual(account);
      expect(await second.getImage(accountId, 'persisted')).toEqual(image);
      expect(await second.listVariants(accountId)).toEqual([variant]);
      expect(await second.listKeys(accountId)).toEqual([key]);
      // Insertion order continues after a reopen.
      const later = { ...image, id: 'later', blobKey: 'blob-later', uploaded: image.uploaded + 1 };
      expect(await second.insertImage(later)).toBe('ok');
      expect((await second.listImages(accountId, { offset: 0, limit: 10 })).map((r) => r.id)).toEqual([
        'persisted',
        'later',
      ]);
    } finally {
      await second.close();
    }
  });

  it("two connections on one file: each sees the other's commits through changedElsewhere, never its own", async () => {
    const filename = nextFile();
    const accountId = 'b'.repeat(32);
    const one = createSqliteMetadataStore({ filename });
    const two = createSqliteMetadataStore({ filename });
    try {
      await one.migrate();
      await two.migrate();
      one.changedElsewhere();
      two.changedElsewhere();
      await one.createAccount(
        {
          id: accountId,
          hash: 'BBBBBBBBBBBBBBBBBBBBBB',
          allowance: 10,
          flexibleVariants: false,
          browserTtl: 3600,
          createdAt: 1,
        },
        { variants: [], keys: [] },
      );
      expect(one.changedElsewhere(), 'own commit').toBe(false);
      expect(two.changedElsewhere(), "the other's commit").toBe(true);
      expect(two.changedElsewhere(), 'reported once').toBe(false);
      await two.updateAccount(accountId, { browserTtl: 7200 });
      expect(one.changedElsewhere()).toBe(true);
      expect(two.changedElsewhere()).toBe(false);
      // Reads do not count as changes.
      await one.getAccount(accountId);
      expect(two.changedElsewhere()).toBe(false);
    } finally {
      await one.close();
      await two.close();
    }
  });
});

describe('sqlite close', () => {
  it('a store opened and closed without a query closes its file (no -wal or -shm left)', async () => {
    const filename = nextFile();
    const first = createSqliteMetadataStore({ filename });
    await first.migrate();
    await first.close();
    const unused = createSqliteMetadataStore({ filename });
    expect(fs.existsSync(`${filename}-wal`), 'opened').toBe(true);
    await unused.close();
    expect(fs.existsSync(`${filename}-wal`)).toBe(false);
    expect(fs.existsSync(`${filename}-shm`)).toBe(false);
  });
});

describe('sqlite close after a change', () => {
  it('waits out changeWindowMs after a change (other processes reuse a data_version check that long), not otherwise', async () => {
    const idle = createSqliteMetadataStore({ filename: nextFile(), changeWindowMs: 300 });
    let started = performance.now();
    await idle.close();
    expect(performance.now() - started, 'nothing changed: no wait').toBeLessThan(300);
    const store = createSqliteMetadataStore({ filename: nextFile(), changeWindowMs: 300 });
    await store.migrate();
    started = performance.now();
    await store.close();
    expect(performance.now() - started, 'changed: the window passes first').toBeGreaterThanOrEqual(300);
  });
});

describe('sqlite full-disk headroom', () => {
  it('a file store keeps a 1 MiB reserve beside the database; :memory: none', async () => {
    const filename = nextFile();
    const store = createSqliteMetadataStore({ filename });
    await store.migrate();
    expect(fs.statSync(`${filename}-headroom`).size).toBe(HEADROOM_BYTES);
    await store.close();
    fs.unlinkSync(`${filename}-headroom`);
    const again = createSqliteMetadataStore({ filename });
    expect(fs.statSync(`${filename}-headroom`).size).toBe(HEADROOM_BYTES);
    await again.close();
  });

  it('release gives the blocks back once; restore tops the reserve up', () => {
    const h = new Headroom(path.join(dir, `reserve-${++n}`), 10_000);
    expect(h.release()).toBe(false);
    h.restore();
    expect(h.size()).toBe(10_000);
    h.restore();
    expect(h.size()).toBe(10_000);
    expect(h.release()).toBe(true);
    expect(h.size()).toBe(0);
    expect(h.release()).toBe(false);
  });

  it('a second start writes nothing: migrations already applied, nothing to lock', async () => {
    const filename = nextFile();
    const first = createSqliteMetadataStore({ filename });
    await first.migrate();
    await first.close();
    // The file change counter (header offset 24) moves with every committed write once checkpointed
    // (the close checkpoints): a start on a full disk must not need one.
    const counter = fs.readFileSync(filename).readUInt32BE(24);
    const second = createSqliteMetadataStore({ filename });
    await second.migrate();
    await second.close();
    expect(fs.readFileSync(filename).readUInt32BE(24)).toBe(counter);
  });
});
