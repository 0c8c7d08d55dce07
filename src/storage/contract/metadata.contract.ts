/**
 * The MetadataStore contract: every implementation calls `metadataStoreContract` from its own test file.
 * Each test gets a fresh, migrated store from `create()` and closes it afterwards.
 */
import { randomBytes } from 'node:crypto';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { Account, ApiCredential, ImageRecord, SigningKey, VariantRecord } from '../../core/types.js';
import type {
  DraftCompletion,
  ListImagesV2Page,
  ListImagesV2Query,
  MetaFilter,
  MetadataStore,
} from '../types.js';

export interface MetadataStoreContractOptions {
  name: string;
  /** A fresh, empty store. The contract calls `migrate()` on it before each test. */
  create: () => Promise<MetadataStore>;
  /** Names of tests to skip (exact `it` titles). */
  skip?: string[];
  /** Skip the whole suite (the backend is not reachable here; the caller says why). */
  skipAll?: boolean;
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
    facts: { width: 640, height: 480, frames: 1, alpha: true, copyright: null },
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
    facts: null,
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
  base.filler = 'x'.repeat(bytes - used);
  return base;
}

export function metadataStoreContract(opts: MetadataStoreContractOptions): void {
  const skip = new Set(opts.skip ?? []);
  const test = (title: string, fn: () => Promise<void>): void => {
    if (skip.has(title)) it.skip(title, fn);
    else it(title, fn);
  };

  describe.skipIf(opts.skipAll === true)(`MetadataStore contract: ${opts.name}`, () => {
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

      test('a key with a NUL names nothing (PostgreSQL cannot even take one as a parameter)', async () => {
        const account = await seedAccount();
        const nul = 'a\0b';
        expect(await store.getAccount(nul)).toBeNull();
        expect(await store.getAccountByHash(nul)).toBeNull();
        expect(await store.getImage(account.id, nul)).toBeNull();
        expect(await store.getImage(nul, 'x')).toBeNull();
        expect(await store.updateImage(account.id, nul, { meta: { a: 1 } })).toBeNull();
        const facts = { width: 1, height: 1, frames: 1, alpha: false, copyright: null };
        expect(await store.setImageFacts(account.id, nul, 'k', facts)).toBe(false);
        expect(await store.replaceImageBlob(account.id, nul, 'k', { blobKey: 'n', size: 1 })).toBeNull();
        expect(await store.deleteImage(account.id, nul)).toBeNull();
        expect(
          await store.completeDraft(
            account.id,
            nul,
            {
              blobKey: 'k',
              filename: null,
              contentType: 'image/png',
              format: 'png',
              size: 1,
              width: 1,
              height: 1,
              facts,
              uploaded: Date.now(),
              svgSanitizer: null,
            },
            Date.now(),
          ),
        ).toBe('gone');
        expect(await store.getVariant(account.id, nul)).toBeNull();
        expect(
          await store.updateVariant(account.id, nul, { options: { fit: 'cover', metadata: 'keep' } }),
        ).toBeNull();
        expect(await store.deleteVariant(account.id, nul)).toBe(false);
        expect(await store.deleteKey(account.id, nul, makeKey(account.id, 'replacement'))).toBe(false);
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
        const second: ApiCredential = {
          ...first,
          permissions: ['read', 'write'],
          label: 'second',
          accountIds: [],
        };
        await store.putCredential(second);
        expect(await store.findCredential(first.secretHash)).toEqual(second);
      });

      test('listCredentials lists every credential; deleteCredential removes one, idempotently', async () => {
        const a = makeCredential({ label: 'a', createdAt: T0 + 1 });
        const b = makeCredential({ label: 'b', createdAt: T0 + 2 });
        await store.putCredential(b);
        await store.putCredential(a);
        expect(await store.listCredentials()).toEqual([a, b]);
        expect(await store.deleteCredential(a.secretHash)).toBe(true);
        expect(await store.deleteCredential(a.secretHash)).toBe(false);
        expect(await store.findCredential(a.secretHash)).toBeNull();
        expect(await store.listCredentials()).toEqual([b]);
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
          // EXIF orientation 6: the oriented size is the stored one turned.
          facts: {
            width: 6000,
            height: 8000,
            frames: 24,
            alpha: false,
            copyright: '© Ünïcode Photographer 2026',
          },
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
          facts: null,
        });
        await insertOk(img);
        const got = await store.getImage(account.id, 'nulls');
        expect(got).toEqual(img);
        expect(got?.meta).toBeNull();
        expect(got?.filename).toBeNull();
        expect(got?.width).toBeNull();
        expect(got?.facts).toBeNull();
      });

      test('setImageFacts records the facts of a row written without them, and nothing else', async () => {
        const account = await seedAccount();
        const img = await insertOk(makeImage(account.id, 'old-row', { facts: null, version: 4 }));
        const facts = { width: 480, height: 640, frames: 3, alpha: true, copyright: 'Jane' };
        expect(await store.setImageFacts(account.id, img.id, img.blobKey!, facts)).toBe(true);
        const got = await store.getImage(account.id, img.id);
        expect(got).toEqual({ ...img, facts });
        // The version (part of every cache key) does not move.
        expect(got?.version).toBe(4);
        expect((await store.listImages(account.id, { offset: 0, limit: 10 }))[0]?.facts).toEqual(facts);
        expect(
          (await store.listImagesV2(account.id, { limit: 10, order: 'asc', filters: [] })).images[0]?.facts,
        ).toEqual(facts);
      });

      test('setImageFacts changes nothing when the row is gone or holds another blob', async () => {
        const account = await seedAccount();
        const facts = { width: 1, height: 1, frames: 1, alpha: false, copyright: null };
        expect(await store.setImageFacts(account.id, 'absent', 'blob-x', facts)).toBe(false);
        const img = await insertOk(makeImage(account.id, 'replaced', { facts: null }));
        expect(await store.setImageFacts(account.id, img.id, 'some-other-blob', facts)).toBe(false);
        expect((await store.getImage(account.id, img.id))?.facts).toBeNull();
        expect(await store.setImageFacts(hex32(), img.id, img.blobKey!, facts)).toBe(false);
      });

      test('facts survive an update of the row', async () => {
        const account = await seedAccount();
        const img = await insertOk(makeImage(account.id, 'patched'));
        const updated = await store.updateImage(account.id, img.id, { meta: { x: 1 }, creator: 'me' });
        expect(updated?.facts).toEqual(img.facts);
        expect((await store.deleteImage(account.id, img.id))?.facts).toEqual(img.facts);
      });

      test('insertImage exists: the original row is untouched', async () => {
        const account = await seedAccount();
        const original = await insertOk(
          makeImage(account.id, 'dup', { meta: { v: 'original' }, creator: 'a' }),
        );
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
        for (let i = 0; i < 7; i++)
          rows.push(await insertOk(makeImage(account.id, `p${i}`, { uploaded: T0 + i })));
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
        for (let i = 0; i < 5; i++)
          rows.push(await insertOk(makeImage(account.id, `s${i}`, { uploaded: T0 + i })));
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
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: undefined })).toEqual(
          all,
        );
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: null })).toEqual([
          none1,
          none2,
        ]);
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: 'alice' })).toEqual([
          alice1,
          alice2,
        ]);
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: 'Alice' })).toEqual([
          aliceCase,
        ]);
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: 'bob' })).toEqual([bob]);
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: 'ali' })).toEqual([]);
        expect(await store.listImages(account.id, { offset: 0, limit: 100, creator: 'nobody' })).toEqual([]);
        // Paging applies after the filter.
        expect(await store.listImages(account.id, { offset: 1, limit: 1, creator: 'alice' })).toEqual([
          alice2,
        ]);
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

      test('replaceImageBlob moves the row to a new blob only from the blob it names, and bumps version', async () => {
        const account = await seedAccount();
        const img = await insertOk(
          makeImage(account.id, 'svg-old', {
            format: 'svg',
            contentType: 'image/svg+xml',
            blobKey: 'old-key',
          }),
        );
        expect((await store.getImage(account.id, 'svg-old'))?.svgSanitizer ?? null).toBeNull();
        const moved = await store.replaceImageBlob(account.id, 'svg-old', 'old-key', {
          blobKey: 'new-key',
          size: 99,
          svgSanitizer: 2,
        });
        expect(moved).toEqual({
          ...img,
          blobKey: 'new-key',
          size: 99,
          svgSanitizer: 2,
          version: moved?.version,
        });
        expect(moved!.version).toBeGreaterThan(img.version);
        expect(await store.getImage(account.id, 'svg-old')).toEqual(moved);
        // A second mover that read the old row loses: nothing changes.
        expect(
          await store.replaceImageBlob(account.id, 'svg-old', 'old-key', {
            blobKey: 'other',
            size: 1,
            svgSanitizer: 2,
          }),
        ).toBeNull();
        expect(
          await store.replaceImageBlob(account.id, 'nope', 'old-key', {
            blobKey: 'other',
            size: 1,
            svgSanitizer: 2,
          }),
        ).toBeNull();
        expect(await store.getImage(account.id, 'svg-old')).toEqual(moved);
        const referenced: string[] = [];
        for await (const k of store.referencedBlobKeys()) referenced.push(k);
        expect(referenced).toContain('new-key');
        expect(referenced).not.toContain('old-key');
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
        expect((got?.meta as Record<string, unknown> | undefined)?.combining).toBe('e\u0301 vs \u00e9');
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

    describe('listImagesV2', () => {
      type Filter = MetaFilter;
      type Op = MetaFilter['op'];
      type Ty = MetaFilter['type'];

      /** A v2 query with defaults: newest first, a page large enough for every test, no filters. */
      function q(overrides: Partial<ListImagesV2Query> = {}): ListImagesV2Query {
        return { limit: 1000, order: 'desc', filters: [], ...overrides };
      }

      function f(path: string, op: Op, type: Ty, ...values: Array<string | number | boolean>): Filter {
        return { path, op, type, values };
      }

      const idsOf = (rows: ImageRecord[]): string[] => rows.map((r) => r.id);

      /** Ids of one unpaged listing (asserts it fit in one page). */
      async function list(accountId: string, overrides: Partial<ListImagesV2Query> = {}): Promise<string[]> {
        const page = await store.listImagesV2(accountId, q(overrides));
        expect(page.next).toBeNull();
        return idsOf(page.images);
      }

      /** Follows `next` until null; returns every page. */
      async function walk(accountId: string, query: ListImagesV2Query): Promise<ListImagesV2Page[]> {
        const pages: ListImagesV2Page[] = [];
        let after: number | undefined;
        for (let i = 0; i < 1000; i++) {
          const page = await store.listImagesV2(accountId, { ...query, after });
          pages.push(page);
          if (page.next === null) return pages;
          after = page.next;
        }
        throw new Error('walk did not end');
      }

      /** Inserts images with ids out of lexical order and increasing upload times; returns them oldest first. */
      async function insertMany(accountId: string, n: number, prefix = 'img'): Promise<ImageRecord[]> {
        const rows: ImageRecord[] = [];
        for (let i = 0; i < n; i++) {
          const id = `${prefix}-${String((i * 7919) % 1000).padStart(3, '0')}-${i}`;
          rows.push(await insertOk(makeImage(accountId, id, { uploaded: T0 + i })));
        }
        return rows;
      }

      test('listImagesV2 of an empty account is an empty last page', async () => {
        const account = await seedAccount();
        for (const order of ['asc', 'desc'] as const) {
          expect(await store.listImagesV2(account.id, q({ order }))).toEqual({ images: [], next: null });
          expect(await store.listImagesV2(hex32(), q({ order }))).toEqual({ images: [], next: null });
        }
      });

      test('listImagesV2 desc lists newest first, asc oldest first, whole records', async () => {
        const account = await seedAccount();
        const rows = await insertMany(account.id, 6);
        const desc = await store.listImagesV2(account.id, q({ order: 'desc' }));
        expect(desc).toEqual({ images: [...rows].reverse(), next: null });
        const asc = await store.listImagesV2(account.id, q({ order: 'asc' }));
        expect(asc).toEqual({ images: rows, next: null });
      });

      test('listImagesV2 orders by upload (insertion) order, not by id', async () => {
        const account = await seedAccount();
        const ids = ['zeta', 'alpha', 'mike', 'bravo', 'yankee'];
        const rows: ImageRecord[] = [];
        for (const [i, id] of ids.entries())
          rows.push(await insertOk(makeImage(account.id, id, { uploaded: T0 + i })));
        expect(await list(account.id, { order: 'asc' })).toEqual(ids);
        expect(await list(account.id, { order: 'desc' })).toEqual([...ids].reverse());
        // Updating a row does not move it.
        await store.updateImage(account.id, 'alpha', { meta: { moved: true }, creator: 'x' });
        expect(await list(account.id, { order: 'asc' })).toEqual(ids);
      });

      test('listImagesV2 after-paging walks every image exactly once, in both orders', async () => {
        const account = await seedAccount();
        const rows = await insertMany(account.id, 7);
        for (const order of ['asc', 'desc'] as const) {
          const expected = idsOf(order === 'asc' ? rows : [...rows].reverse());
          for (const limit of [1, 2, 3, 6, 7, 8, 100]) {
            const pages = await walk(account.id, q({ order, limit }));
            const seen = pages.flatMap((p) => idsOf(p.images));
            expect(seen, `${order} limit ${limit}`).toEqual(expected);
            // Every page but the last is full and has a position; the last has none.
            expect(pages).toHaveLength(Math.max(1, Math.ceil(rows.length / limit)));
            for (const p of pages.slice(0, -1)) {
              expect(p.images).toHaveLength(limit);
              expect(p.next).not.toBeNull();
              expect(Number.isSafeInteger(p.next)).toBe(true);
            }
            const last = pages[pages.length - 1]!;
            expect(last.next).toBeNull();
            expect(last.images.length).toBeGreaterThan(0);
            expect(last.images.length).toBeLessThanOrEqual(limit);
          }
        }
      });

      test('listImagesV2 next is null when the last page is exactly full (limit + 1 probe)', async () => {
        const account = await seedAccount();
        const rows = await insertMany(account.id, 6);
        for (const order of ['asc', 'desc'] as const) {
          const ordered = order === 'asc' ? rows : [...rows].reverse();
          // 6 rows, limit 6: one page, no more.
          const whole = await store.listImagesV2(account.id, q({ order, limit: 6 }));
          expect(whole).toEqual({ images: ordered, next: null });
          // 6 rows, limit 3: the second page is exactly full and is the last one.
          const p1 = await store.listImagesV2(account.id, q({ order, limit: 3 }));
          expect(p1.images).toEqual(ordered.slice(0, 3));
          expect(p1.next).not.toBeNull();
          const p2 = await store.listImagesV2(account.id, q({ order, limit: 3, after: p1.next! }));
          expect(p2).toEqual({ images: ordered.slice(3), next: null });
          // 6 rows, limit 5: a non-full last page.
          const p3 = await store.listImagesV2(account.id, q({ order, limit: 5 }));
          expect(p3.next).not.toBeNull();
          expect(await store.listImagesV2(account.id, q({ order, limit: 5, after: p3.next! }))).toEqual({
            images: ordered.slice(5),
            next: null,
          });
        }
      });

      test('listImagesV2 next continues right after the last image of the page', async () => {
        const account = await seedAccount();
        const rows = await insertMany(account.id, 5);
        for (const order of ['asc', 'desc'] as const) {
          const ordered = order === 'asc' ? rows : [...rows].reverse();
          let after: number | undefined;
          for (let i = 0; i < ordered.length; i++) {
            const page = await store.listImagesV2(account.id, q({ order, limit: 1, after }));
            expect(page.images).toEqual([ordered[i]]);
            // The same position read twice gives the same page (paging is a pure function of `after`).
            expect(await store.listImagesV2(account.id, q({ order, limit: 1, after }))).toEqual(page);
            if (i < ordered.length - 1) expect(page.next).not.toBeNull();
            else expect(page.next).toBeNull();
            after = page.next ?? undefined;
          }
        }
      });

      test('listImagesV2 asc paging: no skip or repeat while images are inserted and deleted between reads', async () => {
        const account = await seedAccount();
        const rows = await insertMany(account.id, 10, 'a');
        const ids = idsOf(rows);
        const seen: string[] = [];

        const p1 = await store.listImagesV2(account.id, q({ order: 'asc', limit: 3 }));
        seen.push(...idsOf(p1.images));
        expect(idsOf(p1.images)).toEqual(ids.slice(0, 3));
        // Between reads: a new image (newest), a draft, delete the cursor image itself, one already
        // seen, and one not yet reached.
        const late1 = await insertOk(makeImage(account.id, 'late-1', { uploaded: T0 + 100 }));
        await insertOk(makeDraft(account.id, 'late-draft', { uploaded: T0 + 101 }));
        expect(await store.deleteImage(account.id, ids[2]!)).not.toBeNull();
        expect(await store.deleteImage(account.id, ids[0]!)).not.toBeNull();
        expect(await store.deleteImage(account.id, ids[5]!)).not.toBeNull();

        const p2 = await store.listImagesV2(account.id, q({ order: 'asc', limit: 3, after: p1.next! }));
        seen.push(...idsOf(p2.images));
        expect(idsOf(p2.images)).toEqual([ids[3], ids[4], ids[6]]);
        // Delete the first image after the cursor and the cursor image, add another.
        expect(await store.deleteImage(account.id, ids[7]!)).not.toBeNull();
        expect(await store.deleteImage(account.id, ids[6]!)).not.toBeNull();
        const late2 = await insertOk(makeImage(account.id, 'late-2', { uploaded: T0 + 102 }));

        let after = p2.next;
        while (after !== null) {
          const p = await store.listImagesV2(account.id, q({ order: 'asc', limit: 3, after }));
          seen.push(...idsOf(p.images));
          after = p.next;
        }
        expect(seen).toEqual([
          ids[0],
          ids[1],
          ids[2],
          ids[3],
          ids[4],
          ids[6],
          ids[8],
          ids[9],
          late1.id,
          late2.id,
        ]);
        expect(new Set(seen).size).toBe(seen.length);
        // Every image that existed from the first read to the last was seen exactly once.
        for (const id of [ids[1], ids[3], ids[4], ids[8], ids[9]])
          expect(seen.filter((s) => s === id)).toHaveLength(1);
        expect(seen).not.toContain('late-draft');
      });

      test('listImagesV2 desc paging: no skip or repeat while images are inserted and deleted between reads', async () => {
        const account = await seedAccount();
        const rows = await insertMany(account.id, 10, 'd');
        const newest = idsOf(rows).reverse();
        const seen: string[] = [];

        const p1 = await store.listImagesV2(account.id, q({ order: 'desc', limit: 3 }));
        seen.push(...idsOf(p1.images));
        expect(idsOf(p1.images)).toEqual(newest.slice(0, 3));
        // Newer images land before the cursor: they must not show up on later pages, nor push
        // older ones into a repeat.
        await insertOk(makeImage(account.id, 'late-1', { uploaded: T0 + 100 }));
        await insertOk(makeImage(account.id, 'late-2', { uploaded: T0 + 101 }));
        expect(await store.deleteImage(account.id, newest[2]!)).not.toBeNull(); // the cursor image
        expect(await store.deleteImage(account.id, newest[0]!)).not.toBeNull(); // already seen
        expect(await store.deleteImage(account.id, newest[4]!)).not.toBeNull(); // not reached yet

        const p2 = await store.listImagesV2(account.id, q({ order: 'desc', limit: 3, after: p1.next! }));
        seen.push(...idsOf(p2.images));
        expect(idsOf(p2.images)).toEqual([newest[3], newest[5], newest[6]]);
        await insertOk(makeImage(account.id, 'late-3', { uploaded: T0 + 102 }));
        expect(await store.deleteImage(account.id, newest[6]!)).not.toBeNull(); // the cursor image again
        expect(await store.deleteImage(account.id, newest[7]!)).not.toBeNull(); // the next one

        let after = p2.next;
        while (after !== null) {
          const p = await store.listImagesV2(account.id, q({ order: 'desc', limit: 3, after }));
          seen.push(...idsOf(p.images));
          after = p.next;
        }
        expect(seen).toEqual([
          newest[0],
          newest[1],
          newest[2],
          newest[3],
          newest[5],
          newest[6],
          newest[8],
          newest[9],
        ]);
        expect(new Set(seen).size).toBe(seen.length);
        for (const late of ['late-1', 'late-2', 'late-3']) expect(seen).not.toContain(late);
        // A fresh walk sees the new state.
        const fresh = (await walk(account.id, q({ order: 'desc', limit: 3 }))).flatMap((p) =>
          idsOf(p.images),
        );
        expect(fresh).toEqual([
          'late-3',
          'late-2',
          'late-1',
          newest[1],
          newest[3],
          newest[5],
          newest[8],
          newest[9],
        ]);
      });

      test('listImagesV2 paging with a filter: no skip or repeat while matching images come and go', async () => {
        const account = await seedAccount();
        const rows: ImageRecord[] = [];
        for (let i = 0; i < 12; i++) {
          rows.push(
            await insertOk(
              makeImage(account.id, `m${i}`, { uploaded: T0 + i, meta: { even: i % 2 === 0, i } }),
            ),
          );
        }
        const evens = rows.filter((_, i) => i % 2 === 0).map((r) => r.id);
        const filters = [f('even', 'eq', 'boolean', true)];
        for (const order of ['asc', 'desc'] as const) {
          const expected = order === 'asc' ? evens : [...evens].reverse();
          const pages = await walk(account.id, q({ order, limit: 2, filters }));
          expect(pages.flatMap((p) => idsOf(p.images))).toEqual(expected);
          expect(pages).toHaveLength(3);
        }
        // Mid-walk (asc): an even one stops matching, an odd one starts matching, a new even one arrives.
        const seen: string[] = [];
        const p1 = await store.listImagesV2(account.id, q({ order: 'asc', limit: 2, filters }));
        seen.push(...idsOf(p1.images));
        await store.updateImage(account.id, 'm6', { meta: { even: false } });
        await store.updateImage(account.id, 'm7', { meta: { even: true } });
        await insertOk(makeImage(account.id, 'm12', { uploaded: T0 + 12, meta: { even: true } }));
        let after = p1.next;
        while (after !== null) {
          const p = await store.listImagesV2(account.id, q({ order: 'asc', limit: 2, filters, after }));
          seen.push(...idsOf(p.images));
          after = p.next;
        }
        expect(seen).toEqual(['m0', 'm2', 'm4', 'm7', 'm8', 'm10', 'm12']);
      });

      test('listImagesV2 never lists drafts, with or without filters; a completed draft appears', async () => {
        const account = await seedAccount();
        const meta = { status: 'active', n: 1 };
        const a = await insertOk(makeImage(account.id, 'a', { uploaded: T0 + 1, meta, creator: 'c1' }));
        await insertOk(makeDraft(account.id, 'd1', { uploaded: T0 + 2, meta, creator: 'c1' }));
        const b = await insertOk(makeImage(account.id, 'b', { uploaded: T0 + 3, meta, creator: null }));
        await insertOk(makeDraft(account.id, 'd2', { uploaded: T0 + 4, meta, creator: null }));
        for (const order of ['asc', 'desc'] as const) {
          const expected = order === 'asc' ? ['a', 'b'] : ['b', 'a'];
          expect(await list(account.id, { order })).toEqual(expected);
          expect(await list(account.id, { order, filters: [f('status', 'eq', 'auto', 'active')] })).toEqual(
            expected,
          );
          expect(await list(account.id, { order, filters: [f('n', 'gte', 'number', 0)] })).toEqual(expected);
          expect(await list(account.id, { order, creator: 'c1' })).toEqual(['a']);
          expect(await list(account.id, { order, creator: null })).toEqual(['b']);
          // Paging over drafts: limit 1 still walks exactly the two images.
          const pages = await walk(account.id, q({ order, limit: 1 }));
          expect(pages.flatMap((p) => idsOf(p.images))).toEqual(expected);
          expect(pages).toHaveLength(2);
        }
        expect((await store.listImagesV2(account.id, q())).images).toEqual([b, a]);

        // Completing a draft makes it a listed image, matched by the metadata it was created with.
        const completion: DraftCompletion = {
          filename: 'd1.png',
          blobKey: 'blob-d1',
          contentType: 'image/png',
          format: 'png',
          size: 10,
          width: 1,
          height: 1,
          facts: { width: 1, height: 1, frames: 1, alpha: false, copyright: null },
          uploaded: T0 + 10,
        };
        const done = await store.completeDraft(account.id, 'd1', completion, T0 + 5);
        // The completed row comes back as written, so callers need no second read.
        expect(done).toEqual(await store.getImage(account.id, 'd1'));
        expect(done).toMatchObject({ draft: false, expiresAt: null, blobKey: 'blob-d1', version: 2 });
        expect(await list(account.id, { order: 'asc' })).toContain('d1');
        expect(await list(account.id, { filters: [f('status', 'eq', 'auto', 'active')] })).toContain('d1');
        expect(await list(account.id, { creator: 'c1' })).toContain('d1');
        expect(await list(account.id)).not.toContain('d2');
      });

      test('listImagesV2 lists a completed draft at its upload time, not at its creation', async () => {
        const account = await seedAccount();
        await insertOk(makeImage(account.id, 'before', { uploaded: T0 + 1 }));
        await insertOk(makeDraft(account.id, 'draft', { uploaded: T0 + 2 }));
        await insertOk(makeImage(account.id, 'between', { uploaded: T0 + 3 }));
        const completion: DraftCompletion = {
          filename: 'draft.png',
          blobKey: 'blob-draft',
          contentType: 'image/png',
          format: 'png',
          size: 10,
          width: 1,
          height: 1,
          facts: { width: 1, height: 1, frames: 1, alpha: false, copyright: null },
          uploaded: T0 + 4,
        };
        expect(await store.completeDraft(account.id, 'draft', completion, T0 + 4)).toMatchObject({
          id: 'draft',
          draft: false,
        });
        expect((await store.getImage(account.id, 'draft'))?.uploaded).toBe(T0 + 4);
        expect((await store.getImage(account.id, 'draft'))?.facts).toEqual(completion.facts);
        // Upload order: the bytes of `draft` arrived last.
        expect(await list(account.id, { order: 'asc' })).toEqual(['before', 'between', 'draft']);
        expect(await list(account.id, { order: 'desc' })).toEqual(['draft', 'between', 'before']);
      });

      test('listImagesV2 creator filter: undefined = any, null = none, string = exact', async () => {
        const account = await seedAccount();
        const specs: Array<[string, string | null]> = [
          ['n1', null],
          ['a1', 'alice'],
          ['b1', 'bob'],
          ['n2', null],
          ['a2', 'alice'],
          ['A1', 'Alice'],
          ['e1', ''],
        ];
        for (const [i, [id, creator]] of specs.entries()) {
          await insertOk(
            makeImage(account.id, id, {
              creator,
              uploaded: T0 + i,
              meta: { k: i % 2 === 0 ? 'even' : 'odd' },
            }),
          );
        }
        const all = specs.map(([id]) => id);
        expect(await list(account.id, { order: 'asc' })).toEqual(all);
        expect(await list(account.id, { order: 'asc', creator: undefined })).toEqual(all);
        expect(await list(account.id, { order: 'asc', creator: null })).toEqual(['n1', 'n2']);
        expect(await list(account.id, { order: 'desc', creator: null })).toEqual(['n2', 'n1']);
        expect(await list(account.id, { order: 'asc', creator: 'alice' })).toEqual(['a1', 'a2']);
        expect(await list(account.id, { order: 'asc', creator: 'Alice' })).toEqual(['A1']);
        expect(await list(account.id, { order: 'asc', creator: 'bob' })).toEqual(['b1']);
        expect(await list(account.id, { order: 'asc', creator: 'ali' })).toEqual([]);
        expect(await list(account.id, { order: 'asc', creator: 'nobody' })).toEqual([]);
        // Creator and metadata filters combine (AND).
        expect(
          await list(account.id, { order: 'asc', creator: 'alice', filters: [f('k', 'eq', 'auto', 'even')] }),
        ).toEqual(['a2']);
        expect(
          await list(account.id, { order: 'asc', creator: null, filters: [f('k', 'eq', 'auto', 'even')] }),
        ).toEqual(['n1']);
        // Paging applies after the filter.
        const pages = await walk(account.id, q({ order: 'asc', limit: 1, creator: 'alice' }));
        expect(pages.map((p) => idsOf(p.images))).toEqual([['a1'], ['a2']]);
        expect(pages[1]?.next).toBeNull();
      });

      describe('metadata filters', () => {
        let account: Account;

        /**
         * s1..s6 cover strings, numbers, booleans, their spelled-as-string twins, nested paths,
         * arrays, and images without the field or without metadata.
         */
        beforeEach(async () => {
          account = await seedAccount();
          const metas: Array<[string, Record<string, unknown> | null]> = [
            [
              's1',
              {
                status: 'active',
                n: 5,
                flag: true,
                region: { name: 'eu-west', code: 3 },
                tags: ['red', 'blue'],
                scores: [1, 10],
              },
            ],
            [
              's2',
              {
                status: 'pending',
                n: 10,
                flag: false,
                region: { name: 'us-east', code: 7 },
                tags: ['green'],
                scores: [],
              },
            ],
            ['s3', { status: '5', n: '5', flag: 'true', region: { name: 'eu-west' }, tags: 'red' }],
            [
              's4',
              { status: 'deleted', n: -2.5, deep: { a: { b: { c: { d: 'x' } } } }, mixed: [2, 'two', true] },
            ],
            ['s5', null],
            ['s6', { title: 'café ☕ 写真', other: { status: 'active' } }],
          ];
          for (const [i, [id, meta]] of metas.entries())
            await insertOk(makeImage(account.id, id, { uploaded: T0 + i, meta }));
        });

        /** Ids matching all filters, oldest first. */
        const match = (...filters: Filter[]): Promise<string[]> =>
          list(account.id, { order: 'asc', filters });

        test('filter eq (auto) matches strings, and numbers and booleans it spells', async () => {
          expect(await match(f('status', 'eq', 'auto', 'active'))).toEqual(['s1']);
          expect(await match(f('status', 'eq', 'auto', 'pending'))).toEqual(['s2']);
          expect(await match(f('status', 'eq', 'auto', 'Active'))).toEqual([]);
          expect(await match(f('status', 'eq', 'auto', 'activ'))).toEqual([]);
          expect(await match(f('n', 'eq', 'auto', '5'))).toEqual(['s1', 's3']);
          expect(await match(f('n', 'eq', 'auto', '10'))).toEqual(['s2']);
          expect(await match(f('n', 'eq', 'auto', '-2.5'))).toEqual(['s4']);
          expect(await match(f('flag', 'eq', 'auto', 'true'))).toEqual(['s1', 's3']);
          expect(await match(f('flag', 'eq', 'auto', 'false'))).toEqual(['s2']);
          // A boolean is not the number 1.
          expect(await match(f('flag', 'eq', 'auto', '1'))).toEqual([]);
          expect(await match(f('title', 'eq', 'auto', 'café ☕ 写真'))).toEqual(['s6']);
        });

        test('filter eq:string matches only string values', async () => {
          expect(await match(f('status', 'eq', 'string', 'active'))).toEqual(['s1']);
          expect(await match(f('n', 'eq', 'string', '5'))).toEqual(['s3']);
          expect(await match(f('flag', 'eq', 'string', 'true'))).toEqual(['s3']);
          expect(await match(f('flag', 'eq', 'string', 'false'))).toEqual([]);
          expect(await match(f('status', 'eq', 'string', '5'))).toEqual(['s3']);
        });

        test('filter eq:number matches only number values', async () => {
          expect(await match(f('n', 'eq', 'number', 5))).toEqual(['s1']);
          expect(await match(f('n', 'eq', 'number', 10))).toEqual(['s2']);
          expect(await match(f('n', 'eq', 'number', -2.5))).toEqual(['s4']);
          expect(await match(f('n', 'eq', 'number', 6))).toEqual([]);
          // The string '5' is not the number 5.
          expect(await match(f('status', 'eq', 'number', 5))).toEqual([]);
        });

        test('filter eq:boolean matches only boolean values', async () => {
          expect(await match(f('flag', 'eq', 'boolean', true))).toEqual(['s1']);
          expect(await match(f('flag', 'eq', 'boolean', false))).toEqual(['s2']);
          // Neither the string 'true' nor numbers are booleans.
          expect(await match(f('n', 'eq', 'boolean', true))).toEqual([]);
          expect(await match(f('status', 'eq', 'boolean', true))).toEqual([]);
        });

        test('filter gt / gte / lt / lte compare numbers only', async () => {
          expect(await match(f('n', 'gt', 'number', 5))).toEqual(['s2']);
          expect(await match(f('n', 'gte', 'number', 5))).toEqual(['s1', 's2']);
          expect(await match(f('n', 'lt', 'number', 5))).toEqual(['s4']);
          expect(await match(f('n', 'lte', 'number', 5))).toEqual(['s1', 's4']);
          expect(await match(f('n', 'gt', 'number', -3))).toEqual(['s1', 's2', 's4']);
          expect(await match(f('n', 'lt', 'number', -2.5))).toEqual([]);
          expect(await match(f('n', 'lte', 'number', -2.5))).toEqual(['s4']);
          expect(await match(f('n', 'gt', 'number', 10))).toEqual([]);
          expect(await match(f('n', 'gte', 'number', 10))).toEqual(['s2']);
          // Numeric, not lexical: 10 > 9 although '10' < '9'.
          expect(await match(f('n', 'gt', 'number', 9))).toEqual(['s2']);
          // Strings and booleans are never in range.
          expect(await match(f('status', 'gt', 'number', -1e9))).toEqual([]);
          expect(await match(f('flag', 'gte', 'number', 0))).toEqual([]);
        });

        test('filter in (auto, string, number) matches any listed value', async () => {
          expect(await match(f('status', 'in', 'auto', 'active', 'pending', 'nope'))).toEqual(['s1', 's2']);
          expect(await match(f('status', 'in', 'auto', 'nope'))).toEqual([]);
          expect(await match(f('n', 'in', 'auto', '5', '10'))).toEqual(['s1', 's2', 's3']);
          expect(await match(f('n', 'in', 'string', '5', '10'))).toEqual(['s3']);
          expect(await match(f('n', 'in', 'number', 5, 10))).toEqual(['s1', 's2']);
          expect(await match(f('n', 'in', 'number', -2.5, 99))).toEqual(['s4']);
          expect(await match(f('status', 'in', 'string', 'deleted', '5'))).toEqual(['s3', 's4']);
        });

        test('filter on nested paths', async () => {
          expect(await match(f('region.name', 'eq', 'auto', 'eu-west'))).toEqual(['s1', 's3']);
          expect(await match(f('region.name', 'eq', 'string', 'us-east'))).toEqual(['s2']);
          expect(await match(f('region.code', 'gt', 'number', 5))).toEqual(['s2']);
          expect(await match(f('region.code', 'in', 'number', 3, 7))).toEqual(['s1', 's2']);
          expect(await match(f('deep.a.b.c.d', 'eq', 'auto', 'x'))).toEqual(['s4']);
          expect(await match(f('other.status', 'eq', 'auto', 'active'))).toEqual(['s6']);
          // A nested field is not a top-level one, and vice versa.
          expect(await match(f('status', 'eq', 'auto', 'active'))).toEqual(['s1']);
          expect(await match(f('name', 'eq', 'auto', 'eu-west'))).toEqual([]);
          // An object is not a scalar: a prefix of a path matches nothing.
          expect(await match(f('region', 'eq', 'auto', 'eu-west'))).toEqual([]);
          expect(await match(f('deep.a.b.c', 'eq', 'auto', 'x'))).toEqual([]);
        });

        test('filter on arrays matches any scalar element', async () => {
          expect(await match(f('tags', 'eq', 'auto', 'blue'))).toEqual(['s1']);
          expect(await match(f('tags', 'eq', 'auto', 'red'))).toEqual(['s1', 's3']);
          expect(await match(f('tags', 'eq', 'string', 'green'))).toEqual(['s2']);
          expect(await match(f('tags', 'in', 'auto', 'green', 'blue'))).toEqual(['s1', 's2']);
          expect(await match(f('tags', 'eq', 'auto', 'purple'))).toEqual([]);
          expect(await match(f('scores', 'eq', 'number', 1))).toEqual(['s1']);
          expect(await match(f('scores', 'gt', 'number', 5))).toEqual(['s1']);
          expect(await match(f('scores', 'lt', 'number', 0))).toEqual([]);
          expect(await match(f('mixed', 'eq', 'number', 2))).toEqual(['s4']);
          expect(await match(f('mixed', 'eq', 'string', 'two'))).toEqual(['s4']);
          expect(await match(f('mixed', 'eq', 'boolean', true))).toEqual(['s4']);
          // Two conditions on one array may hold on different elements.
          expect(await match(f('tags', 'eq', 'auto', 'red'), f('tags', 'eq', 'auto', 'blue'))).toEqual([
            's1',
          ]);
          // An image is listed once even when several elements match.
          expect(await match(f('tags', 'in', 'auto', 'red', 'blue'))).toEqual(['s1', 's3']);
          expect(await match(f('scores', 'gte', 'number', 0))).toEqual(['s1']);
        });

        test('several filters are ANDed', async () => {
          expect(await match(f('status', 'eq', 'auto', 'active'), f('n', 'gte', 'number', 5))).toEqual([
            's1',
          ]);
          expect(await match(f('region.name', 'eq', 'auto', 'eu-west'), f('n', 'eq', 'number', 5))).toEqual([
            's1',
          ]);
          expect(await match(f('region.name', 'eq', 'auto', 'eu-west'), f('n', 'eq', 'string', '5'))).toEqual(
            ['s3'],
          );
          expect(await match(f('n', 'gte', 'number', 0), f('n', 'lte', 'number', 10))).toEqual(['s1', 's2']);
          expect(
            await match(
              f('status', 'in', 'auto', 'active', 'pending'),
              f('region.code', 'lt', 'number', 5),
              f('flag', 'eq', 'boolean', true),
              f('tags', 'eq', 'auto', 'blue'),
              f('n', 'in', 'number', 5, 6),
            ),
          ).toEqual(['s1']);
          // Order of filters does not matter.
          expect(await match(f('n', 'gte', 'number', 5), f('status', 'eq', 'auto', 'active'))).toEqual([
            's1',
          ]);
        });

        test('contradictory filters return nothing', async () => {
          expect(await match(f('n', 'eq', 'number', 5), f('n', 'lte', 'number', 3))).toEqual([]);
          expect(
            await match(f('status', 'eq', 'auto', 'active'), f('status', 'eq', 'auto', 'pending')),
          ).toEqual([]);
          expect(await match(f('n', 'gt', 'number', 5), f('n', 'lt', 'number', 5))).toEqual([]);
          expect(await match(f('flag', 'eq', 'boolean', true), f('flag', 'eq', 'boolean', false))).toEqual(
            [],
          );
        });

        test('a filter on a missing path returns nothing', async () => {
          expect(await match(f('nope', 'eq', 'auto', 'active'))).toEqual([]);
          expect(await match(f('nope', 'gt', 'number', -1e9))).toEqual([]);
          expect(await match(f('status.sub', 'eq', 'auto', 'active'))).toEqual([]);
          expect(await match(f('status', 'eq', 'auto', 'active'), f('nope', 'in', 'auto', 'a', 'b'))).toEqual(
            [],
          );
          // Images without metadata (s5) never match, not even a catch-all range.
          expect(await match(f('n', 'gte', 'number', -1e9))).not.toContain('s5');
        });

        test('filters page like the unfiltered list, in both orders', async () => {
          const filters = [f('n', 'in', 'auto', '5', '10', '-2.5')];
          const asc = await walk(account.id, q({ order: 'asc', limit: 1, filters }));
          expect(asc.map((p) => idsOf(p.images))).toEqual([['s1'], ['s2'], ['s3'], ['s4']]);
          expect(asc.map((p) => p.next === null)).toEqual([false, false, false, true]);
          const desc = await walk(account.id, q({ order: 'desc', limit: 2, filters }));
          expect(desc.map((p) => idsOf(p.images))).toEqual([
            ['s4', 's3'],
            ['s2', 's1'],
          ]);
          expect(desc.map((p) => p.next === null)).toEqual([false, true]);
          // Filtered pages carry the whole records.
          const one = await store.listImagesV2(
            account.id,
            q({ filters: [f('deep.a.b.c.d', 'eq', 'auto', 'x')] }),
          );
          expect(one.images).toEqual([await store.getImage(account.id, 's4')]);
        });
      });

      test('listImagesV2 matches a scalar at the fifth nesting level', async () => {
        const account = await seedAccount();
        await insertOk(
          makeImage(account.id, 'deep', {
            meta: { l1: { l2: { l3: { l4: { l5: 'five', l5o: { l6: 'six' } } } } } },
          }),
        );
        expect(await list(account.id, { filters: [f('l1.l2.l3.l4.l5', 'eq', 'auto', 'five')] })).toEqual([
          'deep',
        ]);
        // The image itself keeps all its metadata.
        expect((await store.getImage(account.id, 'deep'))?.meta).toEqual({
          l1: { l2: { l3: { l4: { l5: 'five', l5o: { l6: 'six' } } } } },
        });
      });

      test('listImagesV2 updateImage re-indexes metadata', async () => {
        const account = await seedAccount();
        await insertOk(
          makeImage(account.id, 'u', { uploaded: T0, meta: { status: 'old', n: 1, tags: ['a', 'b'] } }),
        );
        await insertOk(makeImage(account.id, 'other', { uploaded: T0 + 1, meta: { status: 'old', n: 1 } }));
        const by = (...filters: Filter[]) => list(account.id, { order: 'asc', filters });
        expect(await by(f('status', 'eq', 'auto', 'old'))).toEqual(['u', 'other']);

        const u1 = await store.updateImage(account.id, 'u', { meta: { status: 'new', n: 2, tags: ['c'] } });
        expect(u1?.meta).toEqual({ status: 'new', n: 2, tags: ['c'] });
        expect(await by(f('status', 'eq', 'auto', 'old'))).toEqual(['other']);
        expect(await by(f('status', 'eq', 'auto', 'new'))).toEqual(['u']);
        expect(await by(f('n', 'eq', 'number', 1))).toEqual(['other']);
        expect(await by(f('n', 'gt', 'number', 1))).toEqual(['u']);
        expect(await by(f('tags', 'in', 'auto', 'a', 'b'))).toEqual([]);
        expect(await by(f('tags', 'eq', 'auto', 'c'))).toEqual(['u']);
        // Filtered listing returns the updated record.
        expect(
          (await store.listImagesV2(account.id, q({ filters: [f('status', 'eq', 'auto', 'new')] }))).images,
        ).toEqual([u1]);

        // A field that changes type follows the new type.
        await store.updateImage(account.id, 'u', { meta: { status: 'new', n: '2' } });
        expect(await by(f('n', 'eq', 'number', 2))).toEqual([]);
        expect(await by(f('n', 'eq', 'string', '2'))).toEqual(['u']);

        // Patches without meta keep the index.
        await store.updateImage(account.id, 'u', { creator: 'carol' });
        await store.updateImage(account.id, 'u', { requireSignedURLs: true });
        expect(await by(f('status', 'eq', 'auto', 'new'))).toEqual(['u']);
        expect(
          await list(account.id, { creator: 'carol', filters: [f('status', 'eq', 'auto', 'new')] }),
        ).toEqual(['u']);

        // meta: null and {} drop every index row of the image.
        await store.updateImage(account.id, 'u', { meta: null });
        expect(await by(f('status', 'eq', 'auto', 'new'))).toEqual([]);
        await store.updateImage(account.id, 'u', { meta: { status: 'back' } });
        expect(await by(f('status', 'eq', 'auto', 'back'))).toEqual(['u']);
        await store.updateImage(account.id, 'u', { meta: {} });
        expect(await by(f('status', 'eq', 'auto', 'back'))).toEqual([]);
        // The other image was never touched.
        expect(await by(f('status', 'eq', 'auto', 'old'), f('n', 'eq', 'number', 1))).toEqual(['other']);
        // A failed update (missing id) indexes nothing.
        expect(await store.updateImage(account.id, 'missing', { meta: { status: 'ghost' } })).toBeNull();
        expect(await by(f('status', 'eq', 'auto', 'ghost'))).toEqual([]);
      });

      test('listImagesV2 deleteImage removes the index rows', async () => {
        const account = await seedAccount();
        await insertOk(
          makeImage(account.id, 'gone', { uploaded: T0, meta: { status: 'doomed', n: 7, tags: ['t'] } }),
        );
        await insertOk(makeImage(account.id, 'stay', { uploaded: T0 + 1, meta: { status: 'kept', n: 7 } }));
        expect(await list(account.id, { filters: [f('n', 'eq', 'number', 7)] })).toEqual(['stay', 'gone']);
        expect(await store.deleteImage(account.id, 'gone')).not.toBeNull();
        expect(await list(account.id, { filters: [f('status', 'eq', 'auto', 'doomed')] })).toEqual([]);
        expect(await list(account.id, { filters: [f('tags', 'eq', 'auto', 't')] })).toEqual([]);
        expect(await list(account.id, { filters: [f('n', 'eq', 'number', 7)] })).toEqual(['stay']);
        // The id reused with other metadata matches only the new metadata.
        await insertOk(makeImage(account.id, 'gone', { uploaded: T0 + 2, meta: { status: 'reborn' } }));
        expect(await list(account.id, { filters: [f('status', 'eq', 'auto', 'doomed')] })).toEqual([]);
        expect(await list(account.id, { filters: [f('n', 'eq', 'number', 7)] })).toEqual(['stay']);
        expect(await list(account.id, { filters: [f('status', 'eq', 'auto', 'reborn')] })).toEqual(['gone']);
        // Deleting a draft with metadata leaves nothing behind either.
        await insertOk(makeDraft(account.id, 'dr', { meta: { status: 'kept' } }));
        expect(await store.deleteImage(account.id, 'dr')).not.toBeNull();
        expect(await list(account.id, { filters: [f('status', 'eq', 'auto', 'kept')] })).toEqual(['stay']);
      });

      test('listImagesV2 is isolated between accounts', async () => {
        const a = await seedAccount();
        const b = await seedAccount();
        const meta = { status: 'shared', n: 3, tags: ['x'] };
        await insertOk(makeImage(a.id, 'same', { uploaded: T0, meta, creator: 'c' }));
        await insertOk(makeImage(b.id, 'same', { uploaded: T0, meta, creator: 'c' }));
        await insertOk(makeImage(b.id, 'b-only', { uploaded: T0 + 1, meta, creator: 'c' }));
        const filters = [f('status', 'eq', 'auto', 'shared'), f('n', 'lte', 'number', 3)];
        const pa = await store.listImagesV2(a.id, q({ filters }));
        expect(pa.images.map((r) => [r.accountId, r.id])).toEqual([[a.id, 'same']]);
        expect(await list(b.id, { filters })).toEqual(['b-only', 'same']);
        expect(await list(a.id, { creator: 'c' })).toEqual(['same']);
        expect(await list(a.id)).toEqual(['same']);

        // A position from another account's listing does not reach into this one.
        const pb = await store.listImagesV2(b.id, q({ order: 'asc', limit: 1 }));
        expect(pb.next).not.toBeNull();
        const crossed = await store.listImagesV2(a.id, q({ order: 'asc', after: pb.next! }));
        for (const r of crossed.images) expect(r.accountId).toBe(a.id);

        // Updating or deleting in one account leaves the other's index alone.
        await store.updateImage(a.id, 'same', { meta: { status: 'changed' } });
        expect(await list(a.id, { filters })).toEqual([]);
        expect(await list(b.id, { filters })).toEqual(['b-only', 'same']);
        expect(await list(b.id, { filters: [f('status', 'eq', 'auto', 'changed')] })).toEqual([]);
        await store.deleteImage(b.id, 'same');
        expect(await list(a.id, { filters: [f('status', 'eq', 'auto', 'changed')] })).toEqual(['same']);
        expect(await list(b.id, { filters })).toEqual(['b-only']);
        // An unknown account lists nothing, filtered or not.
        expect(await list(hex32(), { filters })).toEqual([]);
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
        const v3 = makeVariant(account.id, 'mmm', {
          createdAt: T0 + 10,
          options: { fit: 'crop', metadata: 'copyright' },
        });
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
        expect((await store.listVariants(account.id)).map((v) => v.id)).toEqual([
          'public',
          'third',
          'fourth',
        ]);
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

      test('putKey with replaceValue sets the value of an existing key in place, or inserts a new one', async () => {
        const account = await seedAccount();
        const extra = makeKey(account.id, 'extra', { createdAt: T0 + 1 });
        await store.putKey(extra);
        await store.putKey({ ...extra, value: 'migrated-value' }, { replaceValue: true });
        await store.putKey(makeKey(account.id, 'fresh', { value: 'fresh-value', createdAt: T0 + 2 }), {
          replaceValue: true,
        });
        const keys = await store.listKeys(account.id);
        expect(keys.map((k) => [k.name, k.name === 'default' ? 'seed' : k.value])).toEqual([
          ['default', 'seed'],
          ['extra', 'migrated-value'],
          ['fresh', 'fresh-value'],
        ]);
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
          expect(
            await store.deleteKey(account.id, name, makeKey(account.id, `r-${name}`, { createdAt: T0 + 9 })),
          ).toBe(true);
          expect((await store.listKeys(account.id)).length).toBeGreaterThanOrEqual(1);
        }
        expect((await store.listKeys(account.id)).map((k) => k.name)).toEqual(['r-k3']);
      });
    });

    describe('concurrency', () => {
      test('concurrent inserts never exceed the allowance', async () => {
        const account = await seedAccount({ allowance: 3 });
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.insertImage(makeImage(account.id, `c${i}`, { uploaded: T0 + i })),
          ),
        );
        expect(results.filter((r) => r === 'ok')).toHaveLength(3);
        expect(results.filter((r) => r === 'quota')).toHaveLength(7);
        expect(await store.countImages(account.id)).toBe(3);
        expect(await store.listImages(account.id, { offset: 0, limit: 100 })).toHaveLength(3);
      });

      test('concurrent inserts of the same id: exactly one wins', async () => {
        const account = await seedAccount();
        const candidates = Array.from({ length: 6 }, (_, i) =>
          makeImage(account.id, 'same', { meta: { n: i } }),
        );
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
        const candidates = Array.from({ length: 5 }, () =>
          makeKey(account.id, 'contended', { createdAt: T0 + 1 }),
        );
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
