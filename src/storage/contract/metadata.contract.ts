/**
 * The MetadataStore contract: every implementation calls `metadataStoreContract` from its own test file.
 * Each test gets a fresh, migrated store from `create()` and closes it afterwards.
 */
import { randomBytes } from 'node:crypto';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { Account, ApiCredential, ImageRecord, SigningKey, VariantRecord } from '../../core/types.js';
import type { MetadataStore } from '../types.js';

export interface MetadataStoreContractOptions {
  name: string;
  /** A fresh, empty store. The contract calls `migrate()` on it before each test. */
  create: () => Promise<MetadataStore>;
  /** Names of tests to skip (exact `it` titles). */
  skip?: string[];
}

const T0 = 1_700_000_000_000;

function hex32(): string {
  return randomBytes(16).toString('hex');
}

function hash22(): string {
  return randomBytes(16).toString('base64url');
}

function makeAccount(overrides: Partial<Account> = {}): Account {
  return {
    id: hex32(),
    hash: hash22(),
    allowance: 100,
    flexibleVariants: false,
    browserTtl: 172_800,
    createdAt: T0,
    ...overrides,
  };
}

function makeImage(accountId: string, id: string, overrides: Partial<ImageRecord> = {}): ImageRecord {
  return {
    accountId,
    id,
    filename: `${id}.png`,
    meta: { source: 'contract', id },
    creator: null,
    requireSignedURLs: false,
    uploaded: T0,
    blobKey: `blob-${id}-${randomBytes(6).toString('base64url')}`,
    contentType: 'image/png',
    format: 'png',
    size: 1234,
    width: 640,
    height: 480,
    draft: false,
    expiresAt: null,
    version: 1,
    ...overrides,
  };
}

function makeDraft(accountId: string, id: string, overrides: Partial<ImageRecord> = {}): ImageRecord {
  return makeImage(accountId, id, {
    filename: null,
    meta: null,
    blobKey: null,
    contentType: null,
    format: null,
    size: 0,
    width: null,
    height: null,
    draft: true,
    expiresAt: T0 + 30 * 60_000,
    ...overrides,
  });
}

function makeVariant(accountId: string, id: string, overrides: Partial<VariantRecord> = {}): VariantRecord {
  return {
    accountId,
    id,
    options: { fit: 'scale-down', metadata: 'none', width: 1366, height: 768 },
    neverRequireSignedURLs: false,
    version: 1,
    createdAt: T0,
    ...overrides,
  };
}

function makeKey(accountId: string, name: string, overrides: Partial<SigningKey> = {}): SigningKey {
  return { accountId, name, value: randomBytes(32).toString('base64url'), createdAt: T0, ...overrides };
}

function makeCredential(overrides: Partial<ApiCredential> = {}): ApiCredential {
  return {
    secretHash: randomBytes(32).toString('hex'),
    kind: 'token',
    email: null,
    expiresAt: null,
    permissions: ['read', 'write'],
    accountIds: [hex32()],
    label: 'contract token',
    createdAt: T0,
    ...overrides,
  };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of iterable) out.push(v);
  return out;
}

/** A meta object whose JSON is exactly `bytes` UTF-8 bytes, with nested and unicode content. */
function metaOfBytes(bytes: number): Record<string, unknown> {
  const base: Record<string, unknown> = {
    title: 'Contract – 契約 – עסקה – 🖼️',
    nested: { n: 42, f: -1.5, t: true, f2: false, z: null, list: [1, 'two', { three: 3 }, []] },
    empty: {},
    filler: '',
  };
  const used = Buffer.byteLength(JSON.stringify(base), 'utf8');
  base['filler'] = 'x'.repeat(bytes - used);
  return base;
}

export function metadataStoreContract(opts: MetadataStoreContractOptions): void {
  const skip = new Set(opts.skip ?? []);
  const test = (title: string, fn: () => Promise<void>): void => {
    if (skip.has(title)) it.skip(title, fn);
    else it(title, fn);
  };

  describe(`MetadataStore contract: ${opts.name}`, () => {
    let store: MetadataStore;
    let open = false;

    beforeEach(async () => {
      store = await opts.create();
      open = true;
      await store.migrate();
    });

    afterEach(async () => {
      if (open) {
        open = false;
        await store.close();
      }
    });

    /** Creates an account with one seed variant (`public`) and one seed key (`default`). */
    async function seedAccount(
      overrides: Partial<Account> = {},
      seed?: { variants?: VariantRecord[]; keys?: SigningKey[] },
    ): Promise<Account> {
      const account = makeAccount(overrides);
      await store.createAccount(account, {
        variants: seed?.variants ?? [makeVariant(account.id, 'public')],
        keys: seed?.keys ?? [makeKey(account.id, 'default')],
      });
      return account;
    }

    async function insertOk(image: ImageRecord): Promise<ImageRecord> {
      expect(await store.insertImage(image)).toBe('ok');
      return image;
    }

    describe('schema', () => {
      test('migrate is idempotent and keeps existing rows', async () => {
        const account = await seedAccount();
        const img = await insertOk(makeImage(account.id, 'keep-me'));
        await store.migrate();
        await store.migrate();
        expect(await store.getAccount(account.id)).toEqual(account);
        expect(await store.getImage(account.id, 'keep-me')).toEqual(img);
      });
    });

    describe('missing rows', () => {
      test('lookups of missing rows resolve to null', async () => {
        const account = await seedAccount();
        expect(await store.getAccount(hex32())).toBeNull();
        expect(await store.getAccountByHash(hash22())).toBeNull();
        expect(await store.getImage(account.id, 'nope')).toBeNull();
        expect(await store.getImage(hex32(), 'nope')).toBeNull();
        expect(await store.getVariant(account.id, 'nope')).toBeNull();
        expect(await store.getVariant(hex32(), 'public')).toBeNull();
        expect(await store.findCredential(randomBytes(32).toString('hex'))).toBeNull();
      });

      test('updates of missing rows resolve to null', async () => {
        const account = await seedAccount();
        expect(await store.updateImage(account.id, 'nope', { meta: { a: 1 } })).toBeNull();
        expect(await store.updateAccount(hex32(), { allowance: 5 })).toBeNull();
        expect(
          await store.updateVariant(account.id, 'nope', { options: { fit: 'cover', metadata: 'keep' } }),
        ).toBeNull();
        // The failed updates wrote nothing.
        expect(await store.getImage(account.id, 'nope')).toBeNull();
        expect(await store.getVariant(account.id, 'nope')).toBeNull();
        expect(await store.listAccounts()).toEqual([account]);
      });

      test('deletes of missing rows resolve to null / false', async () => {
        const account = await seedAccount();
        const keysBefore = await store.listKeys(account.id);
        expect(await store.deleteImage(account.id, 'nope')).toBeNull();
        expect(await store.deleteVariant(account.id, 'nope')).toBe(false);
        expect(await store.deleteKey(account.id, 'nope', makeKey(account.id, 'replacement'))).toBe(false);
        // Deleting a missing key must not insert the replacement.
        expect(await store.listKeys(account.id)).toEqual(keysBefore);
      });

      test('an empty store lists nothing', async () => {
        const id = hex32();
        expect(await store.listAccounts()).toEqual([]);
        expect(await store.listImages(id, { offset: 0, limit: 100 })).toEqual([]);
        expect(await store.countImages(id)).toBe(0);
        expect(await store.listVariants(id)).toEqual([]);
        expect(await store.listKeys(id)).toEqual([]);
        expect(await collect(store.referencedBlobKeys())).toEqual([]);
      });
    });

    describe('accounts', () => {
      test('createAccount stores the account and its seed variants and keys', async () => {
        const account = makeAccount({ flexibleVariants: true, browserTtl: 3600, allowance: 7 });
        const variants = [
          makeVariant(account.id, 'public', { createdAt: T0 }),
          makeVariant(account.id, 'thumb', {
            options: { fit: 'cover', metadata: 'copyright', width: 100, height: 100, browser_ttl: 60 },
            neverRequireSignedURLs: true,
            createdAt: T0 + 1,
          }),
        ];
        const keys = [makeKey(account.id, 'default'), makeKey(account.id, 'second', { createdAt: T0 + 1 })];
        await store.createAccount(account, { variants, keys });

        expect(await store.getAccount(account.id)).toEqual(account);
        expect(await store.getAccountByHash(account.hash)).toEqual(account);
        expect(await store.listAccounts()).toEqual([account]);
        expect(await store.listVariants(account.id)).toEqual(variants);
        expect(await store.getVariant(account.id, 'thumb')).toEqual(variants[1]);
        expect(await store.listKeys(account.id)).toEqual(keys);
      });

      test('listAccounts returns every account', async () => {
        const a = await seedAccount();
        const b = await seedAccount();
        const listed = await store.listAccounts();
        expect(listed).toHaveLength(2);
        expect(listed).toEqual(expect.arrayContaining([a, b]));
      });

      test('updateAccount applies the patch and keeps the other fields', async () => {
        const account = await seedAccount({ allowance: 10, flexibleVariants: false, browserTtl: 100 });
        const updated = await store.updateAccount(account.id, { allowance: 20 });
        expect(updated).toEqual({ ...account, allowance: 20 });
        const updated2 = await store.updateAccount(account.id, { flexibleVariants: true, browserTtl: 999 });
        expect(updated2).toEqual({ ...account, allowance: 20, flexibleVariants: true, browserTtl: 999 });
        expect(await store.getAccount(account.id)).toEqual(updated2);
        expect(await store.getAccountByHash(account.hash)).toEqual(updated2);
      });
    });

    describe('credentials', () => {
      test('putCredential / findCredential round-trip', async () => {
        const token = makeCredential({ permissions: ['read'], accountIds: [hex32(), hex32()] });
        const global = makeCredential({ kind: 'global', email: 'ops@example.com', label: 'global key' });
        await store.putCredential(token);
        await store.putCredential(global);
        expect(await store.findCredential(token.secretHash)).toEqual(token);
        expect(await store.findCredential(global.secretHash)).toEqual(global);
      });

      test('putCredential replaces a credential with the same secret hash', async () => {
        const first = makeCredential({ permissions: ['read'], label: 'first' });
        await store.putCredential(first);
        const second: ApiCredential = { ...first, permissions: ['read', 'write'], label: 'second', accountIds: [] };
        await store.putCredential(second);
        expect(await store.findCredential(first.secretHash)).toEqual(second);
      });
    });

    describe('images', () => {
      test('insertImage ok: the row round-trips every field', async () => {
        const account = await seedAccount();
        const img = makeImage(account.id, '2cdc28f0-017a-49c4-9ed7-87056c83901e', {
          filename: 'photo.jpeg',
          meta: { key: 'value', n: 1 },
          creator: 'user-1',
          requireSignedURLs: true,
          uploaded: T0 + 123,
          contentType: 'image/jpeg',
          format: 'jpeg',
          size: 5_000_000_000,
          width: 8000,
          height: 6000,
          version: 3,
        });
        expect(await store.insertImage(img)).toBe('ok');
        expect(await store.getImage(account.id, img.id)).toEqual(img);
        expect(await store.countImages(account.id)).toBe(1);
        expect(await store.listImages(account.id, { offset: 0, limit: 10 })).toEqual([img]);
      });

      test('insertImage ok: null fields round-trip as null', async () => {
        const account = await seedAccount();
        const img = makeImage(account.id, 'nulls', {
          filename: null,
          meta: null,
          creator: null,
          contentType: null,
          format: null,
          width: null,
          height: null,
        });
        await insertOk(img);
        const got = await store.getImage(account.id, 'nulls');
        expect(got).toEqual(img);
        expect(got?.meta).toBeNull();
        expect(got?.filename).toBeNull();
        expect(got?.width).toBeNull();
      });

      test('insertImage exists: the original row is untouched', async () => {
        const account = await seedAccount();
        const original = await insertOk(makeImage(account.id, 'dup', { meta: { v: 'original' }, creator: 'a' }));
        const clash = makeImage(account.id, 'dup', {
          meta: { v: 'clash' },
          creator: 'b',
          filename: 'other.gif',
          format: 'gif',
          blobKey: 'other-blob',
          size: 1,
          uploaded: T0 + 5,
        });
        expect(await store.insertImage(clash)).toBe('exists');
        expect(await store.getImage(account.id, 'dup')).toEqual(original);
        expect(await store.countImages(account.id)).toBe(1);
        expect(await store.listImages(account.id, { offset: 0, limit: 10 })).toEqual([original]);
        expect(await collect(store.referencedBlobKeys())).not.toContain('other-blob');
      });

      test('insertImage exists: a draft with the same id also blocks', async () => {
        const account = await seedAccount();
        const draft = await insertOk(makeDraft(account.id, 'draft-dup'));
        expect(await store.insertImage(makeImage(account.id, 'draft-dup'))).toBe('exists');
        expect(await store.getImage(account.id, 'draft-dup')).toEqual(draft);
        expect(await store.countImages(account.id)).toBe(0);
      });

      test('insertImage quota: refused when countImages == allowance, nothing written', async () => {
        const account = await seedAccount({ allowance: 2 });
        const a = await insertOk(makeImage(account.id, 'q1', { uploaded: T0 + 1 }));
        const b = await insertOk(makeImage(account.id, 'q2', { uploaded: T0 + 2 }));
        expect(await store.countImages(account.id)).toBe(2);
        const over = makeImage(account.id, 'q3', { uploaded: T0 + 3, blobKey: 'quota-blob' });
        expect(await store.insertImage(over)).toBe('quota');
        expect(await store.getImage(account.id, 'q3')).toBeNull();
        expect(await store.countImages(account.id)).toBe(2);
        expect(await store.listImages(account.id, { offset: 0, limit: 10 })).toEqual([a, b]);
        expect(await collect(store.referencedBlobKeys())).not.toContain('quota-blob');
        // Still refused on a second try.
        expect(await store.insertImage(over)).toBe('quota');
      });

      test('insertImage quota: allowance 0 refuses the first image', async () => {
        const account = await seedAccount({ allowance: 0 });
        expect(await store.insertImage(makeImage(account.id, 'z'))).toBe('quota');
        expect(await store.getImage(account.id, 'z')).toBeNull();
        expect(await store.countImages(account.id)).toBe(0);
      });

      test('insertImage quota: frees up after a delete or an allowance increase', async () => {
        const account = await seedAccount({ allowance: 1 });
        await insertOk(makeImage(account.id, 'one'));
        expect(await store.insertImage(makeImage(account.id, 'two'))).toBe('quota');
        expect(await store.deleteImage(account.id, 'one')).not.toBeNull();
        expect(await store.insertImage(makeImage(account.id, 'two'))).toBe('ok');
        expect(await store.insertImage(makeImage(account.id, 'three'))).toBe('quota');
        await store.updateAccount(account.id, { allowance: 2 });
        expect(await store.insertImage(makeImage(account.id, 'three'))).toBe('ok');
        expect(await store.countImages(account.id)).toBe(2);
      });

      test('insertImage quota: refused when the allowance was lowered below the count', async () => {
        const account = await seedAccount({ allowance: 3 });
        for (const id of ['l1', 'l2', 'l3']) await insertOk(makeImage(account.id, id));
        await store.updateAccount(account.id, { allowance: 1 });
        expect(await store.insertImage(makeImage(account.id, 'l4'))).toBe('quota');
        expect(await store.countImages(account.id)).toBe(3);
        expect(await store.getImage(account.id, 'l4')).toBeNull();
      });

      test('drafts are not counted for quota', async () => {
        const account = await seedAccount({ allowance: 1 });
        await insertOk(makeDraft(account.id, 'd1'));
        await insertOk(makeDraft(account.id, 'd2'));
        expect(await store.countImages(account.id)).toBe(0);
        expect(await store.insertImage(makeImage(account.id, 'real'))).toBe('ok');
        expect(await store.countImages(account.id)).toBe(1);
        expect(await store.insertImage(makeImage(account.id, 'real2'))).toBe('quota');
      });

      test('drafts are readable but excluded from listImages and countImages', async () => {
        const account = await seedAccount();
        const a = await insertOk(makeImage(account.id, 'a', { uploaded: T0 + 1 }));
        const d = await insertOk(makeDraft(account.id, 'd', { uploaded: T0 + 2, creator: 'c1' }));
        const b = await insertOk(makeImage(account.id, 'b', { uploaded: T0 + 3, creator: 'c1' }));
        expect(await store.getImage(account.id, 'd')).toEqual(d);
        expect(await store.countImages(account.id)).toBe(2);
        expect(await store.listImages(account.id, { offset: 0, limit: 10 })).toEqual([a, b]);
        expect(await store.listImages(account.id, { offset: 0, limit: 10, creator: 'c1' })).toEqual([b]);
        expect(await store.listImages(account.id, { offset: 0, limit: 10, creator: null })).toEqual([a]);
        // Paging skips drafts too: the second non-draft row is at offset 1.
        expect(await store.listImages(account.id, { offset: 1, limit: 1 })).toEqual([b]);
      });

      test('listImages returns rows oldest first, in insertion order', async () => {
        const account = await seedAccount();
        // Ids deliberately out of lexical order; identical upload times so only insertion order decides.
        const ids = ['zeta', 'alpha', 'mike', 'bravo', 'yankee'];
        const rows: ImageRecord[] = [];
        for (const id of ids) rows.push(await insertOk(makeImage(account.id, id, { uploaded: T0 })));
        expect(await store.listImages(account.id, { offset: 0, limit: 100 })).toEqual(rows);
      });

      test('listImages pages with offset and limit', async () => {
        const account = await seedAccount();
        const rows: ImageRecord[] = [];
        for (let i = 0; i < 7; i++) rows.push(await insertOk(makeImage(account.id, `p${i}`, { uploaded: T0 + i })));
        expect(await store.listImages(account.id, { offset: 0, limit: 3 })).toEqual(rows.slice(0, 3));
        expect(await store.listImages(account.id, { offset: 3, limit: 3 })).toEqual(rows.slice(3, 6));
        expect(await store.listImages(account.id, { offset: 6, limit: 3 })).toEqual(rows.slice(6));
        expect(await store.listImages(account.id, { offset: 7, limit: 3 })).toEqual([]);
        expect(await store.listImages(account.id, { offset: 100, limit: 3 })).toEqual([]);
        expect(await store.listImages(account.id, { offset: 2, limit: 1 })).toEqual([rows[2]]);
        expect(await store.listImages(account.id, { offset: 0, limit: 100 })).toEqual(rows);
      });

      test('listImages pages stay stable while rows are inserted between reads', async () => {
        const account = await seedAccount();
        const rows: ImageRecord[] = [];
        for (let i = 0; i < 5; i++) rows.push(await insertOk(makeImage(account.id, `s${i}`, { uploaded: T0 + i })));
        const page1 = await store.listImages(account.id, { offset: 0, limit: 2 });
        const late = await insertOk(makeImage(account.id, 'late', { uploaded: T0 + 100 }));
        await insertOk(makeDraft(account.id, 'late-draft', { uploaded: T0 + 101 }));
        const page2 = await store.listImages(account.id, { offset: 2, limit: 2 });
        const late2 = await insertOk(makeImage(account.id, 'late2', { uploaded: T0 + 102 }));
        const page3 = await store.listImages(account.id, { offset: 4, limit: 2 });
        const page4 = await store.listImages(account.id, { offset: 6, limit: 2 });
        expect(page1).toEqual(rows.slice(0, 2));
        expect(page2).toEqual(rows.slice(2, 4));
        expect(page3).toEqual([rows[4], late]);
        expect(page4).toEqual([late2]);
        const seen = [...page1, ...page2, ...page3, ...page4].map((r) => r.id);
        expect(new Set(seen).size).toBe(seen.length);
      });

      test('listImages creator filter: undefined = any, null = none, string = exact', async () => {
        const account = await seedAccount();
        const none1 = await insertOk(makeImage(account.id, 'n1', { creator: null, uploaded: T0 + 1 }));
        const alice1 = await insertOk(makeImage(account.id, 'a1', { creator: 'alice', uploaded: T0 + 2 }));
        const bob = await insertOk(makeImage(account.id, 'b1', { creator: 'bob', uploaded: T0 + 3 }));
        const none2 = await insertOk(makeImage(account.id, 'n2', { creator: null, uploaded: T0 + 4 }));
        const alice2 = await insertOk(makeImage(account.id, 'a2', { creator: 'alice', uploaded: T0 + 5 }));
        const aliceCase = await insertOk(makeImage(account.id, 'A1', { creator: 'Alice', uploaded: T0 + 6 }));
        const empty = await insertOk(makeImage(account.id, 'e1', { creator: '', uploaded: T0 + 7 }));
        const all = [none1, alice1, bob, none2, alice2, aliceCase, empty];

        expect(await store.listImages(account.id, { offset: 0, limit: 100 })).toEqual(all);
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: undefined })).toEqual(all);
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: null })).toEqual([none1, none2]);
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: 'alice' })).toEqual([
          alice1,
          alice2,
        ]);
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: 'Alice' })).toEqual([aliceCase]);
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: 'bob' })).toEqual([bob]);
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: 'ali' })).toEqual([]);
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: 'nobody' })).toEqual([]);
        // Paging applies after the filter.
        expect(await store.listImages(account.id, { offset: 1, limit: 1, creator: 'alice' })).toEqual([alice2]);
        expect(await store.listImages(account.id, { offset: 1, limit: 5, creator: null })).toEqual([none2]);
      });

      test('updateImage replaces meta (no merge) and bumps version', async () => {
        const account = await seedAccount();
        const img = await insertOk(makeImage(account.id, 'u', { meta: { a: 1, b: { c: 2 } }, version: 1 }));
        const u1 = await store.updateImage(account.id, 'u', { meta: { d: 4 } });
        expect(u1).not.toBeNull();
        expect(u1?.meta).toEqual({ d: 4 });
        expect(u1?.version).toBeGreaterThan(img.version);
        expect(u1).toEqual({ ...img, meta: { d: 4 }, version: u1?.version });
        expect(await store.getImage(account.id, 'u')).toEqual(u1);

        const u2 = await store.updateImage(account.id, 'u', { meta: null });
        expect(u2?.meta).toBeNull();
        expect(u2?.version).toBeGreaterThan(u1?.version ?? Infinity);
        expect(await store.getImage(account.id, 'u')).toEqual(u2);
      });

      test('updateImage patches creator and requireSignedURLs, keeps other fields', async () => {
        const account = await seedAccount();
        const img = await insertOk(makeImage(account.id, 'u2', { meta: { keep: true }, creator: null }));
        const u1 = await store.updateImage(account.id, 'u2', { creator: 'carol' });
        expect(u1).toEqual({ ...img, creator: 'carol', version: u1?.version });
        expect(u1?.version).toBeGreaterThan(img.version);
        const u2 = await store.updateImage(account.id, 'u2', { requireSignedURLs: true });
        expect(u2).toEqual({ ...img, creator: 'carol', requireSignedURLs: true, version: u2?.version });
        expect(u2?.version).toBeGreaterThan(u1?.version ?? Infinity);
        const u3 = await store.updateImage(account.id, 'u2', { creator: null, requireSignedURLs: false });
        expect(u3).toEqual({ ...img, version: u3?.version });
        expect(u3?.version).toBeGreaterThan(u2?.version ?? Infinity);
        expect(await store.getImage(account.id, 'u2')).toEqual(u3);
        // The creator filter follows the update.
        expect(await store.listImages(account.id, { offset: 0, limit: 10, creator: null })).toEqual([u3]);
        expect(await store.listImages(account.id, { offset: 0, limit: 10, creator: 'carol' })).toEqual([]);
        // Updating does not move the row in the listing order.
        const other = await insertOk(makeImage(account.id, 'after', { uploaded: T0 + 9 }));
        await store.updateImage(account.id, 'u2', { meta: { moved: false } });
        const listed = await store.listImages(account.id, { offset: 0, limit: 10 });
        expect(listed.map((r) => r.id)).toEqual(['u2', other.id]);
      });

      test('deleteImage returns the deleted row and is idempotent', async () => {
        const account = await seedAccount();
        const keep = await insertOk(makeImage(account.id, 'keep', { uploaded: T0 }));
        const img = await insertOk(makeImage(account.id, 'del', { uploaded: T0 + 1, meta: { x: 'y' } }));
        const updated = await store.updateImage(account.id, 'del', { meta: { x: 'z' } });
        const deleted = await store.deleteImage(account.id, 'del');
        expect(deleted).toEqual(updated);
        expect(deleted?.blobKey).toBe(img.blobKey);
        expect(await store.getImage(account.id, 'del')).toBeNull();
        expect(await store.deleteImage(account.id, 'del')).toBeNull();
        expect(await store.countImages(account.id)).toBe(1);
        expect(await store.listImages(account.id, { offset: 0, limit: 10 })).toEqual([keep]);
        expect(await store.getImage(account.id, 'keep')).toEqual(keep);
        // The id can be reused after the delete.
        expect(await store.insertImage(makeImage(account.id, 'del'))).toBe('ok');
      });

      test('deleteImage removes drafts and returns them', async () => {
        const account = await seedAccount();
        const draft = await insertOk(makeDraft(account.id, 'dd'));
        expect(await store.deleteImage(account.id, 'dd')).toEqual(draft);
        expect(await store.getImage(account.id, 'dd')).toBeNull();
      });

      test('meta round-trips unicode exactly', async () => {
        const account = await seedAccount();
        const meta = {
          emoji: '🖼️👩‍👩‍👧‍👦🏳️‍🌈',
          cjk: '写真の説明・사진 설명・图片描述',
          rtl: 'שלום עולם — مرحبا بالعالم',
          combining: 'e\u0301 vs \u00e9',
          escapes: 'quote " backslash \\ newline \n tab \t',
          '键 🔑': 'unicode key',
          list: ['α', 'β', '😀'],
        };
        const img = await insertOk(
          makeImage(account.id, 'unicode', { meta, filename: '写真 🖼️.png', creator: 'مستخدم' }),
        );
        const got = await store.getImage(account.id, 'unicode');
        expect(got).toEqual(img);
        expect(got?.meta).toStrictEqual(meta);
        expect((got?.meta as Record<string, unknown>)['combining']).toBe('e\u0301 vs \u00e9');
        expect(await store.listImages(account.id, { offset: 0, limit: 1 })).toEqual([img]);
        const updated = await store.updateImage(account.id, 'unicode', { meta: { ...meta, extra: '🚀' } });
        expect(updated?.meta).toStrictEqual({ ...meta, extra: '🚀' });
        expect((await store.getImage(account.id, 'unicode'))?.meta).toStrictEqual({ ...meta, extra: '🚀' });
      });

      test('meta round-trips a 1,024-byte object exactly', async () => {
        const account = await seedAccount();
        const meta = metaOfBytes(1024);
        expect(Buffer.byteLength(JSON.stringify(meta), 'utf8')).toBe(1024);
        const img = await insertOk(makeImage(account.id, 'big-meta', { meta }));
        const got = await store.getImage(account.id, 'big-meta');
        expect(got?.meta).toStrictEqual(meta);
        expect(got).toEqual(img);
        const listed = await store.listImages(account.id, { offset: 0, limit: 10 });
        expect(listed[0]?.meta).toStrictEqual(meta);
      });

      test('referencedBlobKeys yields the blob keys of image rows', async () => {
        const a = await seedAccount();
        const b = await seedAccount();
        const i1 = await insertOk(makeImage(a.id, 'r1'));
        const i2 = await insertOk(makeImage(a.id, 'r2'));
        const i3 = await insertOk(makeImage(b.id, 'r1'));
        await insertOk(makeDraft(a.id, 'draft'));
        const deleted = await insertOk(makeImage(a.id, 'gone'));
        await store.deleteImage(a.id, 'gone');

        const keys = await collect(store.referencedBlobKeys());
        for (const k of keys) expect(typeof k).toBe('string');
        expect(new Set(keys)).toEqual(new Set([i1.blobKey, i2.blobKey, i3.blobKey]));
        expect(keys).not.toContain(deleted.blobKey);
      });
    });

    describe('variants', () => {
      test('insertVariant ok, then listVariants returns variants oldest first', async () => {
        const account = await seedAccount();
        const seed = (await store.listVariants(account.id))[0];
        // Ids out of lexical order, identical createdAt: insertion order decides.
        const v1 = makeVariant(account.id, 'zzz', { createdAt: T0 + 10 });
        const v2 = makeVariant(account.id, 'aaa', {
          createdAt: T0 + 10,
          options: { fit: 'pad', metadata: 'keep', width: 10 },
          neverRequireSignedURLs: true,
        });
        const v3 = makeVariant(account.id, 'mmm', { createdAt: T0 + 10, options: { fit: 'crop', metadata: 'copyright' } });
        expect(await store.insertVariant(v1, 100)).toBe('ok');
        expect(await store.insertVariant(v2, 100)).toBe('ok');
        expect(await store.insertVariant(v3, 100)).toBe('ok');
        expect(await store.listVariants(account.id)).toEqual([seed, v1, v2, v3]);
        expect(await store.getVariant(account.id, 'aaa')).toEqual(v2);
        const got3 = await store.getVariant(account.id, 'mmm');
        expect(got3).toEqual(v3);
        expect(got3?.options).not.toHaveProperty('width');
      });

      test('insertVariant exists: the original variant is untouched', async () => {
        const account = await seedAccount();
        const original = await store.getVariant(account.id, 'public');
        expect(original).not.toBeNull();
        const clash = makeVariant(account.id, 'public', {
          options: { fit: 'cover', metadata: 'keep', width: 1 },
          neverRequireSignedURLs: true,
          version: 9,
        });
        expect(await store.insertVariant(clash, 100)).toBe('exists');
        expect(await store.getVariant(account.id, 'public')).toEqual(original);
        expect(await store.listVariants(account.id)).toEqual([original]);
      });

      test('insertVariant limit: refused when the account already has maxVariants', async () => {
        const account = await seedAccount();
        const v2 = makeVariant(account.id, 'second', { createdAt: T0 + 1 });
        expect(await store.insertVariant(v2, 2)).toBe('ok');
        expect(await store.insertVariant(makeVariant(account.id, 'third'), 2)).toBe('limit');
        expect(await store.getVariant(account.id, 'third')).toBeNull();
        expect((await store.listVariants(account.id)).map((v) => v.id)).toEqual(['public', 'second']);
        expect(await store.insertVariant(makeVariant(account.id, 'third'), 3)).toBe('ok');
        expect(await store.insertVariant(makeVariant(account.id, 'fourth'), 1)).toBe('limit');
        // Deleting one frees a slot.
        expect(await store.deleteVariant(account.id, 'second')).toBe(true);
        expect(await store.insertVariant(makeVariant(account.id, 'fourth'), 3)).toBe('ok');
        expect((await store.listVariants(account.id)).map((v) => v.id)).toEqual(['public', 'third', 'fourth']);
      });

      test('updateVariant replaces options and bumps version', async () => {
        const account = await seedAccount();
        const before = await store.getVariant(account.id, 'public');
        expect(before?.options).toHaveProperty('width', 1366);
        const u1 = await store.updateVariant(account.id, 'public', {
          options: { fit: 'cover', metadata: 'keep', height: 50 },
        });
        expect(u1).not.toBeNull();
        expect(u1?.options).toStrictEqual({ fit: 'cover', metadata: 'keep', height: 50 });
        expect(u1?.options).not.toHaveProperty('width');
        expect(u1?.neverRequireSignedURLs).toBe(before?.neverRequireSignedURLs);
        expect(u1?.createdAt).toBe(before?.createdAt);
        expect(u1?.accountId).toBe(account.id);
        expect(u1?.id).toBe('public');
        expect(u1?.version).toBeGreaterThan(before?.version ?? Infinity);
        expect(await store.getVariant(account.id, 'public')).toEqual(u1);

        const u2 = await store.updateVariant(account.id, 'public', {
          options: { fit: 'contain', metadata: 'none', width: 10, browser_ttl: 86_400 },
          neverRequireSignedURLs: true,
        });
        expect(u2).toEqual({
          ...before,
          options: { fit: 'contain', metadata: 'none', width: 10, browser_ttl: 86_400 },
          neverRequireSignedURLs: true,
          version: u2?.version,
        });
        expect(u2?.version).toBeGreaterThan(u1?.version ?? Infinity);
        expect(await store.getVariant(account.id, 'public')).toEqual(u2);
        expect(await store.listVariants(account.id)).toEqual([u2]);
      });

      test('deleteVariant removes the variant and reports whether it existed', async () => {
        const account = await seedAccount();
        await store.insertVariant(makeVariant(account.id, 'extra', { createdAt: T0 + 1 }), 10);
        expect(await store.deleteVariant(account.id, 'extra')).toBe(true);
        expect(await store.getVariant(account.id, 'extra')).toBeNull();
        expect(await store.deleteVariant(account.id, 'extra')).toBe(false);
        expect((await store.listVariants(account.id)).map((v) => v.id)).toEqual(['public']);
        // The id can be reused.
        expect(await store.insertVariant(makeVariant(account.id, 'extra'), 10)).toBe('ok');
      });
    });

    describe('signing keys', () => {
      test('listKeys returns keys oldest first', async () => {
        const account = await seedAccount();
        const seed = await store.listKeys(account.id);
        expect(seed.map((k) => k.name)).toEqual(['default']);
        const k1 = makeKey(account.id, 'zulu', { createdAt: T0 + 5 });
        const k2 = makeKey(account.id, 'alpha', { createdAt: T0 + 5 });
        await store.putKey(k1);
        await store.putKey(k2);
        expect(await store.listKeys(account.id)).toEqual([...seed, k1, k2]);
      });

      test('putKey is idempotent: a second put with the same name keeps the original value', async () => {
        const account = await seedAccount();
        const original = makeKey(account.id, 'rotating', { createdAt: T0 + 1 });
        await store.putKey(original);
        await store.putKey({ ...original, value: 'a-different-value', createdAt: T0 + 2 });
        await store.putKey(original);
        const keys = await store.listKeys(account.id);
        expect(keys.filter((k) => k.name === 'rotating')).toEqual([original]);
        expect(keys).toHaveLength(2);
        // Also for a seeded key.
        const seeded = keys.find((k) => k.name === 'default');
        await store.putKey(makeKey(account.id, 'default'));
        expect((await store.listKeys(account.id)).find((k) => k.name === 'default')).toEqual(seeded);
      });

      test('deleteKey of a non-last key does not insert the replacement', async () => {
        const account = await seedAccount();
        const extra = makeKey(account.id, 'extra', { createdAt: T0 + 1 });
        await store.putKey(extra);
        expect(await store.deleteKey(account.id, 'default', makeKey(account.id, 'replacement'))).toBe(true);
        expect(await store.listKeys(account.id)).toEqual([extra]);
      });

      test('deleteKey of the last key inserts the replacement', async () => {
        const account = await seedAccount();
        const replacement = makeKey(account.id, 'default', { createdAt: T0 + 50 });
        const seeded = await store.listKeys(account.id);
        expect(seeded).toHaveLength(1);
        expect(await store.deleteKey(account.id, 'default', replacement)).toBe(true);
        const after = await store.listKeys(account.id);
        expect(after).toEqual([replacement]);
        expect(after[0]?.value).not.toBe(seeded[0]?.value);

        const replacement2 = makeKey(account.id, 'renamed', { createdAt: T0 + 60 });
        expect(await store.deleteKey(account.id, 'default', replacement2)).toBe(true);
        expect(await store.listKeys(account.id)).toEqual([replacement2]);
        // Deleting a name that is gone changes nothing.
        expect(await store.deleteKey(account.id, 'default', makeKey(account.id, 'x'))).toBe(false);
        expect(await store.listKeys(account.id)).toEqual([replacement2]);
      });

      test('an account always keeps at least one key', async () => {
        const account = await seedAccount();
        await store.putKey(makeKey(account.id, 'k2', { createdAt: T0 + 1 }));
        await store.putKey(makeKey(account.id, 'k3', { createdAt: T0 + 2 }));
        for (const name of ['default', 'k2', 'k3']) {
          expect(await store.deleteKey(account.id, name, makeKey(account.id, `r-${name}`, { createdAt: T0 + 9 }))).toBe(
            true,
          );
          expect((await store.listKeys(account.id)).length).toBeGreaterThanOrEqual(1);
        }
        expect((await store.listKeys(account.id)).map((k) => k.name)).toEqual(['r-k3']);
      });
    });

    describe('concurrency', () => {
      test('concurrent inserts never exceed the allowance', async () => {
        const account = await seedAccount({ allowance: 3 });
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.insertImage(makeImage(account.id, `c${i}`, { uploaded: T0 + i }))),
        );
        expect(results.filter((r) => r === 'ok')).toHaveLength(3);
        expect(results.filter((r) => r === 'quota')).toHaveLength(7);
        expect(await store.countImages(account.id)).toBe(3);
        expect(await store.listImages(account.id, { offset: 0, limit: 100 })).toHaveLength(3);
      });

      test('concurrent inserts of the same id: exactly one wins', async () => {
        const account = await seedAccount();
        const candidates = Array.from({ length: 6 }, (_, i) => makeImage(account.id, 'same', { meta: { n: i } }));
        const results = await Promise.all(candidates.map((c) => store.insertImage(c)));
        expect(results.filter((r) => r === 'ok')).toHaveLength(1);
        expect(results.filter((r) => r === 'exists')).toHaveLength(5);
        const winner = candidates[results.indexOf('ok')];
        expect(await store.getImage(account.id, 'same')).toEqual(winner);
        expect(await store.countImages(account.id)).toBe(1);
      });

      test('concurrent insertVariant never exceeds maxVariants', async () => {
        const account = await seedAccount();
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => store.insertVariant(makeVariant(account.id, `v${i}`), 4)),
        );
        expect(results.filter((r) => r === 'ok')).toHaveLength(3);
        expect(results.filter((r) => r === 'limit')).toHaveLength(5);
        expect(await store.listVariants(account.id)).toHaveLength(4);
      });

      test('concurrent deleteKey of every key still leaves one key', async () => {
        const account = await seedAccount();
        await store.putKey(makeKey(account.id, 'k2', { createdAt: T0 + 1 }));
        await store.putKey(makeKey(account.id, 'k3', { createdAt: T0 + 2 }));
        const results = await Promise.all(
          ['default', 'k2', 'k3'].map((name) =>
            store.deleteKey(account.id, name, makeKey(account.id, `r-${name}`, { createdAt: T0 + 9 })),
          ),
        );
        expect(results).toEqual([true, true, true]);
        const keys = await store.listKeys(account.id);
        expect(keys).toHaveLength(1);
        expect(keys[0]?.name).toMatch(/^r-/);
      });

      test('concurrent putKey with the same name keeps exactly one key', async () => {
        const account = await seedAccount();
        const candidates = Array.from({ length: 5 }, () => makeKey(account.id, 'contended', { createdAt: T0 + 1 }));
        await Promise.all(candidates.map((k) => store.putKey(k)));
        const named = (await store.listKeys(account.id)).filter((k) => k.name === 'contended');
        expect(named).toHaveLength(1);
        expect(candidates.map((k) => k.value)).toContain(named[0]?.value);
      });
    });

    describe('isolation between accounts', () => {
      test('the same image id in two accounts is allowed and kept apart', async () => {
        const a = await seedAccount();
        const b = await seedAccount();
        const ia = await insertOk(makeImage(a.id, 'shared', { meta: { owner: 'a' }, creator: 'x' }));
        const ib = await insertOk(makeImage(b.id, 'shared', { meta: { owner: 'b' }, creator: 'x' }));
        const onlyB = await insertOk(makeImage(b.id, 'only-b'));
        expect(await store.getImage(a.id, 'shared')).toEqual(ia);
        expect(await store.getImage(b.id, 'shared')).toEqual(ib);
        expect(await store.getImage(a.id, 'only-b')).toBeNull();
        expect(await store.listImages(a.id, { offset: 0, limit: 10 })).toEqual([ia]);
        expect(await store.listImages(a.id, { offset: 0, limit: 10, creator: 'x' })).toEqual([ia]);
        expect(await store.listImages(b.id, { offset: 0, limit: 10 })).toEqual([ib, onlyB]);
        expect(await store.countImages(a.id)).toBe(1);
        expect(await store.countImages(b.id)).toBe(2);

        const ua = await store.updateImage(a.id, 'shared', { meta: { owner: 'a2' } });
        expect(ua?.meta).toEqual({ owner: 'a2' });
        expect(await store.getImage(b.id, 'shared')).toEqual(ib);
        expect(await store.updateImage(a.id, 'only-b', { meta: {} })).toBeNull();
        expect(await store.getImage(b.id, 'only-b')).toEqual(onlyB);

        expect(await store.deleteImage(a.id, 'only-b')).toBeNull();
        expect(await store.deleteImage(a.id, 'shared')).toEqual(ua);
        expect(await store.getImage(b.id, 'shared')).toEqual(ib);
        expect(await store.countImages(b.id)).toBe(2);
      });

      test('quota is per account', async () => {
        const a = await seedAccount({ allowance: 1 });
        const b = await seedAccount({ allowance: 1 });
        await insertOk(makeImage(a.id, 'i'));
        expect(await store.insertImage(makeImage(a.id, 'j'))).toBe('quota');
        expect(await store.insertImage(makeImage(b.id, 'i'))).toBe('ok');
      });

      test('variants and keys are per account', async () => {
        const a = await seedAccount();
        const b = await seedAccount();
        const va = makeVariant(a.id, 'thumb', { options: { fit: 'cover', metadata: 'none', width: 1 } });
        const vb = makeVariant(b.id, 'thumb', { options: { fit: 'pad', metadata: 'keep', width: 2 } });
        expect(await store.insertVariant(va, 2)).toBe('ok');
        expect(await store.insertVariant(vb, 2)).toBe('ok');
        expect(await store.insertVariant(makeVariant(a.id, 'third'), 2)).toBe('limit');
        expect(await store.getVariant(a.id, 'thumb')).toEqual(va);
        expect(await store.getVariant(b.id, 'thumb')).toEqual(vb);
        expect((await store.listVariants(a.id)).every((v) => v.accountId === a.id)).toBe(true);
        expect(await store.listVariants(a.id)).toHaveLength(2);

        await store.updateVariant(a.id, 'thumb', { options: { fit: 'crop', metadata: 'none' } });
        expect(await store.getVariant(b.id, 'thumb')).toEqual(vb);
        expect(await store.deleteVariant(a.id, 'thumb')).toBe(true);
        expect(await store.getVariant(b.id, 'thumb')).toEqual(vb);

        const keysB = await store.listKeys(b.id);
        const ka = makeKey(a.id, 'shared-name', { createdAt: T0 + 1 });
        const kb = makeKey(b.id, 'shared-name', { createdAt: T0 + 1 });
        await store.putKey(ka);
        await store.putKey(kb);
        expect((await store.listKeys(a.id)).find((k) => k.name === 'shared-name')).toEqual(ka);
        expect((await store.listKeys(b.id)).find((k) => k.name === 'shared-name')).toEqual(kb);
        expect(await store.deleteKey(a.id, 'shared-name', makeKey(a.id, 'r'))).toBe(true);
        expect(await store.listKeys(b.id)).toEqual([...keysB, kb]);
        expect((await store.listKeys(a.id)).every((k) => k.accountId === a.id)).toBe(true);
      });

      test('updateAccount touches only that account', async () => {
        const a = await seedAccount({ allowance: 5 });
        const b = await seedAccount({ allowance: 5 });
        await store.updateAccount(a.id, { allowance: 50 });
        expect((await store.getAccount(a.id))?.allowance).toBe(50);
        expect(await store.getAccount(b.id)).toEqual(b);
        expect(await store.getAccountByHash(b.hash)).toEqual(b);
      });
    });
  });
}
