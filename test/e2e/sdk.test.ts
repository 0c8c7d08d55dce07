/**
 * End-to-end: every Images v1 operation driven through the official `cloudflare` TypeScript SDK
 * against a real Pictor server (digest §1–§4, §7). The SDK is the compatibility target: when it
 * parses a response, decodes an error into the right class or refuses to retry, a real client does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sanitizeSvg } from '../../src/pipeline/svg-sanitize.js';
import Cloudflare, {
  type APIError,
  BadRequestError,
  ConflictError,
  NotFoundError,
  PermissionDeniedError,
  toFile,
} from 'cloudflare';
import type { Envelope } from '../helpers/api.js';
import { makeImage, SVG } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ALLOWANCE = 5000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let server: TestServer;
let client: Cloudflare;
let account_id: string;
let png: Buffer;
let jpeg: Buffer;

interface RawImage {
  id: string;
  filename?: string | null;
  meta?: Record<string, unknown>;
  creator?: string | null;
  requireSignedURLs: boolean;
  uploaded: string;
  variants: string[];
}

/**
 * A client whose requests to the server are recorded, with the SDK's default retry policy unless
 * told otherwise. (The SDK's multipart code also calls `fetch('data:,')` once to find the Response
 * class; that is not a request to the server and is not recorded.)
 */
function countingClient(opts: { maxRetries?: number } = {}): {
  client: Cloudflare;
  calls: Array<{ method: string; url: string }>;
} {
  const calls: Array<{ method: string; url: string }> = [];
  const countingFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('data:'))
      calls.push({ method: init?.method ?? (input instanceof Request ? input.method : 'GET'), url });
    return fetch(input, init);
  };
  const c = new Cloudflare({
    apiToken: server.token,
    baseURL: server.apiBase,
    fetch: countingFetch,
    ...(opts.maxRetries === undefined ? {} : { maxRetries: opts.maxRetries }),
  });
  return { client: c, calls };
}

/** Runs `fn`, expects it to reject with an SDK APIError of class `cls`, and returns the error. */
async function expectApiError<E extends APIError>(
  fn: () => Promise<unknown>,
  cls: abstract new (...args: never[]) => E,
): Promise<E> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'the call should have failed').toBeInstanceOf(cls);
  return caught as E;
}

async function upload(
  data: Buffer,
  name: string,
  extra: { id?: string; metadata?: unknown; creator?: string; requireSignedURLs?: boolean } = {},
) {
  return client.images.v1.create({ account_id, file: await toFile(data, name), ...extra });
}

async function countAllImages(): Promise<number> {
  const res = await client.images.v1.list({ account_id, per_page: 10_000, page: 1 }).asResponse();
  const body = (await res.json()) as Envelope<{ images: RawImage[] }>;
  return body.result.images.length;
}

beforeAll(async () => {
  server = await startTestServer({ PICTOR_IMAGE_ALLOWANCE: String(ALLOWANCE) });
  account_id = server.accountId;
  client = new Cloudflare({ apiToken: server.token, baseURL: server.apiBase, maxRetries: 0 });
  png = await makeImage('png', 64, 48);
  jpeg = await makeImage('jpeg', 80, 60);
});

afterAll(async () => {
  await server?.close();
});

describe('images: upload (POST /images/v1)', () => {
  it('uploads a file made with toFile, with object metadata and a creator', async () => {
    const before = Date.now();
    const image = await upload(png, 'photo.png', { metadata: { a: 'b', n: { c: 'd' } }, creator: 'alice' });
    expect(image.id).toMatch(UUID_RE);
    expect(image.filename).toBe('photo.png');
    expect(image.meta).toEqual({ a: 'b', n: { c: 'd' } });
    expect(image.creator).toBe('alice');
    expect(image.requireSignedURLs).toBe(false);
    // Millisecond-precision ISO timestamp (digest §3).
    expect(image.uploaded).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const uploaded = Date.parse(image.uploaded!);
    expect(uploaded).toBeGreaterThanOrEqual(before - 1000);
    expect(uploaded).toBeLessThanOrEqual(Date.now() + 1000);
    // One delivery URL per account variant; a fresh account has `public`.
    expect(image.variants).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`/${image.id}/public$`))]),
    );
    for (const v of image.variants!) expect(() => new URL(v)).not.toThrow();
  });

  it('uploads a global File object', async () => {
    const file = new File([new Uint8Array(jpeg)], 'camera.jpg', { type: 'image/jpeg' });
    const image = await client.images.v1.create({ account_id, file });
    expect(image.id).toMatch(UUID_RE);
    expect(image.filename).toBe('camera.jpg');
    expect(image.meta).toBeUndefined();
    expect(image.requireSignedURLs).toBe(false);
  });

  it('uploads with requireSignedURLs: true and keeps the flag', async () => {
    const image = await upload(png, 'private.png', { requireSignedURLs: true });
    expect(image.requireSignedURLs).toBe(true);
    const got = await client.images.v1.get(image.id!, { account_id });
    expect(got.requireSignedURLs).toBe(true);
  });

  it('refuses a custom id combined with requireSignedURLs: true (digest §4.3) with 400', async () => {
    const err = await expectApiError(
      () => upload(png, 'nope.png', { id: 'private/custom.png', requireSignedURLs: true }),
      BadRequestError,
    );
    expect(err.status).toBe(400);
    expect(err.errors[0]?.code).toBe(5400);
    await expectApiError(() => client.images.v1.get('private/custom.png', { account_id }), NotFoundError);
  });
});

describe('images: a custom id containing slashes', () => {
  const customId = 'folder/sub/pic.png';

  it('uploads, gets, blobs, edits and deletes by the custom id', async () => {
    const created = await upload(png, 'pic.png', { id: customId, metadata: { k: 'v' } });
    expect(created.id).toBe(customId);
    expect(created.variants).toEqual(
      expect.arrayContaining([expect.stringMatching(/\/folder\/sub\/pic\.png\/public$/)]),
    );

    const got = await client.images.v1.get(customId, { account_id });
    expect(got).toEqual(created);

    const blob = await client.images.v1.blobs.get(customId, { account_id });
    expect(blob.status).toBe(200);
    expect(blob.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await blob.arrayBuffer()).equals(png)).toBe(true);

    const edited = await client.images.v1.edit(customId, {
      account_id,
      metadata: { k2: 'v2' },
      creator: 'carol',
    });
    expect(edited.id).toBe(customId);
    expect(edited.meta).toEqual({ k2: 'v2' });
    expect(edited.creator).toBe('carol');

    const deleted = await client.images.v1.delete(customId, { account_id });
    expect(deleted).toEqual({});

    const err = await expectApiError(() => client.images.v1.get(customId, { account_id }), NotFoundError);
    expect(err.status).toBe(404);
    expect(err.errors[0]?.code).toBe(5404);
  });
});

describe('images: details, edit, delete', () => {
  it('GET returns the same Image object as the upload', async () => {
    const created = await upload(png, 'same.png', { metadata: { x: 1 }, creator: 'dave' });
    const got = await client.images.v1.get(created.id!, { account_id });
    expect(got).toEqual(created);
  });

  it('PATCH metadata replaces the whole object (no merge); omitted fields stay unchanged', async () => {
    const created = await upload(png, 'patch.png', { metadata: { a: 'b', n: { c: 'd' } }, creator: 'erin' });
    const edited = await client.images.v1.edit(created.id!, { account_id, metadata: { x: 'y' } });
    expect(edited.id).toBe(created.id);
    expect(edited.meta).toEqual({ x: 'y' });
    expect(edited.creator).toBe('erin');
    expect(edited.requireSignedURLs).toBe(false);
    expect(edited.filename).toBe('patch.png');
    expect(edited.uploaded).toBe(created.uploaded);

    const got = await client.images.v1.get(created.id!, { account_id });
    expect(got.meta).toEqual({ x: 'y' });

    // No metadata in the body: "No change if not specified" (SPEC images_image_patch_request).
    const flagged = await client.images.v1.edit(created.id!, {
      account_id,
      requireSignedURLs: true,
      creator: 'frank',
    });
    expect(flagged.requireSignedURLs).toBe(true);
    expect(flagged.creator).toBe('frank');
    expect(flagged.meta).toEqual({ x: 'y' });
  });

  it('DELETE removes the image: result {}, then 404 on get, edit, blob and a second delete', async () => {
    const created = await upload(png, 'gone.png');
    const id = created.id!;
    expect(await client.images.v1.delete(id, { account_id })).toEqual({});
    for (const call of [
      () => client.images.v1.get(id, { account_id }),
      () => client.images.v1.edit(id, { account_id, metadata: { a: 1 } }),
      () => client.images.v1.blobs.get(id, { account_id }),
      () => client.images.v1.delete(id, { account_id }),
    ]) {
      const err = await expectApiError(call, NotFoundError);
      expect(err.status).toBe(404);
      expect(err.errors[0]?.code).toBe(5404);
    }
  });
});

describe('images: blob (GET /images/v1/{id}/blob)', () => {
  it.each([
    ['png', 'image/png'],
    ['jpeg', 'image/jpeg'],
    ['webp', 'image/webp'],
    ['gif', 'image/gif'],
  ] as const)('returns the uploaded %s bytes unchanged with content type %s', async (format, contentType) => {
    const data = await makeImage(format, 50, 40);
    const created = await upload(data, `blob.${format}`);
    const res = await client.images.v1.blobs.get(created.id!, { account_id });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(contentType);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(data.length);
    expect(bytes.equals(data)).toBe(true);
  });

  it('returns an SVG without an XML declaration unchanged as image/svg+xml', async () => {
    const bare = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    );
    const created = await upload(bare, 'bare.svg');
    const res = await client.images.v1.blobs.get(created.id!, { account_id });
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(Buffer.from(await res.arrayBuffer()).equals(bare)).toBe(true);
  });

  it('returns an SVG with an XML declaration as stored: its sanitised form, as image/svg+xml', async () => {
    // SVGs are sanitised on ingest (issue #5); the blob is the stored, sanitised document.
    const created = await upload(SVG, 'drawing.svg');
    const res = await client.images.v1.blobs.get(created.id!, { account_id });
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(sanitizeSvg(SVG)!)).toBe(true);
    expect(body.toString('utf8')).toMatch(/<rect[^>]*fill="red"/);
  });
});

describe('images: list (GET /images/v1)', () => {
  it('pages with per_page: 12 images → 10 on page 1, 2 on page 2, none on page 3', async () => {
    const uploaded = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const image = await upload(png, `page-${i}.png`, { creator: 'pager' });
      uploaded.add(image.id!);
    }
    const read = async (page: number) => {
      const res = await client.images.v1
        .list({ account_id, per_page: 10, page, creator: 'pager' })
        .asResponse();
      expect(res.status).toBe(200);
      const body = (await res.json()) as Envelope<{ images: RawImage[] }>;
      expect(body.success).toBe(true);
      return body.result.images;
    };
    const p1 = await read(1);
    const p2 = await read(2);
    const p3 = await read(3);
    expect(p1).toHaveLength(10);
    expect(p2).toHaveLength(2);
    expect(p3).toHaveLength(0);
    const seen = [...p1, ...p2].map((i) => i.id);
    expect(new Set(seen).size).toBe(12);
    expect(new Set(seen)).toEqual(uploaded);
    for (const image of [...p1, ...p2]) expect(image.creator).toBe('pager');
  });

  it('keeps the v1 shape result.images (the SDK page reads result.items, digest §1.3)', async () => {
    const page = await client.images.v1.list({ account_id, per_page: 10, creator: 'pager' });
    // The known quirk: V4PagePagination looks for result.items, which Cloudflare does not send.
    expect(page.getPaginatedItems()).toEqual([]);
    const result = page.result as unknown as Record<string, unknown>;
    expect(result).not.toHaveProperty('items');
    expect(Array.isArray(result.images)).toBe(true);
    expect((result.images as unknown[]).length).toBe(10);
  });

  it('filters by creator, and creator "" returns only images without a creator', async () => {
    const mine = await upload(png, 'zed-1.png', { creator: 'zed' });
    const mine2 = await upload(png, 'zed-2.png', { creator: 'zed' });
    const nobody = await upload(png, 'nobody.png');
    const list = async (creator: string) => {
      const res = await client.images.v1.list({ account_id, per_page: 1000, creator }).asResponse();
      return ((await res.json()) as Envelope<{ images: RawImage[] }>).result.images;
    };
    const zed = await list('zed');
    expect(zed.map((i) => i.id).sort()).toEqual([mine.id, mine2.id].sort());
    const none = await list('');
    expect(none.map((i) => i.id)).toContain(nobody.id);
    expect(none.map((i) => i.id)).not.toContain(mine.id);
    for (const image of none) expect(image.creator ?? null).toBeNull();
    expect(await list('no-such-creator')).toEqual([]);
  });
});

describe('signing keys (/images/v1/keys)', () => {
  it('lists, adds idempotently, deletes, and recreates `default` when the last key goes', async () => {
    const initial = await client.images.v1.keys.list({ account_id });
    expect(initial.keys?.map((k) => k.name)).toEqual(['default']);
    const originalDefault = initial.keys![0]!.value!;
    expect(typeof originalDefault).toBe('string');
    expect(originalDefault.length).toBeGreaterThan(0);

    const added = await client.images.v1.keys.update('someKey', { account_id });
    expect(added.keys?.map((k) => k.name).sort()).toEqual(['default', 'someKey']);
    const someKey = added.keys!.find((k) => k.name === 'someKey')!.value!;
    expect(someKey.length).toBeGreaterThan(0);
    expect(someKey).not.toBe(originalDefault);

    // PUT again: same set, same value (idempotent).
    const again = await client.images.v1.keys.update('someKey', { account_id });
    expect(again.keys).toHaveLength(2);
    expect(again.keys!.find((k) => k.name === 'someKey')!.value).toBe(someKey);
    expect(again.keys!.find((k) => k.name === 'default')!.value).toBe(originalDefault);

    const listed = await client.images.v1.keys.list({ account_id });
    expect(listed.keys).toHaveLength(2);

    const afterDelete = await client.images.v1.keys.delete('someKey', { account_id });
    expect(afterDelete.keys).toEqual([{ name: 'default', value: originalDefault }]);

    // Deleting the last key generates a new `default` (SPEC: "When last key is removed, a new default signing key will be generated").
    const regenerated = await client.images.v1.keys.delete('default', { account_id });
    expect(regenerated.keys).toHaveLength(1);
    expect(regenerated.keys![0]!.name).toBe('default');
    expect(regenerated.keys![0]!.value).toBeTruthy();
    expect(regenerated.keys![0]!.value).not.toBe(originalDefault);
    expect((await client.images.v1.keys.list({ account_id })).keys).toEqual(regenerated.keys);
  });
});

describe('stats (GET /images/v1/stats)', () => {
  it('counts stored images against the allowance', async () => {
    const stats = await client.images.v1.stats.get({ account_id });
    expect(stats.count?.allowed).toBe(ALLOWANCE);
    expect(stats.count?.current).toBe(await countAllImages());

    const created = await upload(png, 'count.png');
    expect((await client.images.v1.stats.get({ account_id })).count?.current).toBe(stats.count!.current! + 1);
    await client.images.v1.delete(created.id!, { account_id });
    expect((await client.images.v1.stats.get({ account_id })).count?.current).toBe(stats.count!.current!);
  });
});

describe('variants (/images/v1/variants)', () => {
  const thumb = { fit: 'cover', width: 100, height: 100, metadata: 'none' } as const;

  it('starts with `public`', async () => {
    const list = await client.images.v1.variants.list({ account_id });
    const variants = list.variants as Record<
      string,
      { id: string; options: Record<string, unknown>; neverRequireSignedURLs?: boolean }
    >;
    expect(variants.public?.id).toBe('public');
    expect(variants.public?.neverRequireSignedURLs).toBe(false);
    expect(['scale-down', 'contain', 'cover', 'crop', 'pad']).toContain(variants.public?.options.fit);
  });

  it('create, get, list, edit and delete with neverRequireSignedURLs', async () => {
    const created = await client.images.v1.variants.create({
      account_id,
      id: 'thumb',
      options: thumb,
      neverRequireSignedURLs: true,
    });
    expect(created.variant).toEqual({ id: 'thumb', options: thumb, neverRequireSignedURLs: true });

    const got = await client.images.v1.variants.get('thumb', { account_id });
    expect(got.variant).toEqual(created.variant);

    const list = await client.images.v1.variants.list({ account_id });
    const map = list.variants as Record<string, unknown>;
    expect(map.thumb).toEqual(created.variant);
    expect(Object.keys(map).sort()).toEqual(['public', 'thumb']);

    // Images list one delivery URL per variant.
    const image = await upload(png, 'with-thumb.png');
    expect(image.variants).toHaveLength(2);
    expect(image.variants).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\/public$/),
        expect.stringMatching(new RegExp(`/${image.id}/thumb$`)),
      ]),
    );

    const edited = await client.images.v1.variants.edit('thumb', {
      account_id,
      options: { fit: 'contain', width: 200, height: 150, metadata: 'keep' },
      neverRequireSignedURLs: false,
    });
    expect(edited.variant).toEqual({
      id: 'thumb',
      options: { fit: 'contain', width: 200, height: 150, metadata: 'keep' },
      neverRequireSignedURLs: false,
    });
    expect((await client.images.v1.variants.get('thumb', { account_id })).variant).toEqual(edited.variant);

    const deleted = await client.images.v1.variants.delete('thumb', { account_id });
    expect(deleted).toEqual({});
    const err = await expectApiError(
      () => client.images.v1.variants.get('thumb', { account_id }),
      NotFoundError,
    );
    expect(err.status).toBe(404);
    expect(err.errors[0]?.code).toBe(5401);
    const after = await client.images.v1.variants.list({ account_id });
    expect(Object.keys(after.variants as object)).toEqual(['public']);
  });

  it('refuses to delete `public` (400) and keeps it', async () => {
    const err = await expectApiError(
      () => client.images.v1.variants.delete('public', { account_id }),
      BadRequestError,
    );
    expect(err.status).toBe(400);
    expect(err.errors[0]?.code).toBe(5400);
    expect(err.errors[0]?.message).toMatch(/^ERROR 5400: /);
    const still = await client.images.v1.variants.get('public', { account_id });
    expect(still.variant?.id).toBe('public');
  });

  it('answers a duplicate variant id with 409 and no SDK retry', async () => {
    await client.images.v1.variants.create({ account_id, id: 'dupe', options: thumb });
    const { client: retrying, calls } = countingClient();
    const err = await expectApiError(
      () => retrying.images.v1.variants.create({ account_id, id: 'dupe', options: { ...thumb, width: 999 } }),
      ConflictError,
    );
    expect(err.status).toBe(409);
    expect(err.errors[0]?.code).toBe(5409);
    // Digest §1.3: the SDK retries 409 unless told `x-should-retry: false`.
    expect.soft(err.headers.get('x-should-retry')).toBe('false');
    expect.soft(calls).toHaveLength(1);
    const kept = await client.images.v1.variants.get('dupe', { account_id });
    expect(kept.variant?.options).toEqual(thumb);
    await client.images.v1.variants.delete('dupe', { account_id });
  });
});

describe('account config (PATCH /images/v1/config, digest §2.14)', () => {
  it('sets flexible_variants and browser_ttl through the SDK generic methods', async () => {
    const path = `/accounts/${account_id}/images/v1/config`;
    const patched = (await client.patch(path, {
      body: { flexible_variants: true, browser_ttl: 3600 },
    })) as Envelope<{
      flexible_variants: boolean;
      browser_ttl: number;
    }>;
    expect(patched.success).toBe(true);
    expect(patched.result).toEqual({ flexible_variants: true, browser_ttl: 3600 });
    const read = (await client.get(path)) as Envelope<{ flexible_variants: boolean; browser_ttl: number }>;
    expect(read.result).toEqual({ flexible_variants: true, browser_ttl: 3600 });

    const err = await expectApiError(() => client.patch(path, { body: { browser_ttl: 5 } }), BadRequestError);
    expect(err.status).toBe(400);
    expect(err.errors[0]?.code).toBe(5400);

    const reset = (await client.patch(path, {
      body: { flexible_variants: false, browser_ttl: 172_800 },
    })) as Envelope<{
      flexible_variants: boolean;
      browser_ttl: number;
    }>;
    expect(reset.result).toEqual({ flexible_variants: false, browser_ttl: 172_800 });
  });
});

describe('errors as the SDK maps them (digest §1.3, §7)', () => {
  it('400 BadRequestError for invalid variant options', async () => {
    const err = await expectApiError(
      () =>
        client.images.v1.variants.create({
          account_id,
          id: 'broken',
          options: { fit: 'stretch' as 'cover', width: 10, height: 10, metadata: 'none' },
        }),
      BadRequestError,
    );
    expect(err.status).toBe(400);
    expect(err.errors[0]?.code).toBe(5400);
    expect(err.errors[0]?.message).toMatch(/^ERROR 5400: /);

    const err2 = await expectApiError(
      () =>
        client.images.v1.variants.create({
          account_id,
          id: 'broken',
          options: { fit: 'cover', width: 1.5, height: 10, metadata: 'none' },
        }),
      BadRequestError,
    );
    expect(err2.status).toBe(400);
    expect(err2.errors[0]?.code).toBe(5400);
    await expectApiError(() => client.images.v1.variants.get('broken', { account_id }), NotFoundError);
  });

  it('403 PermissionDeniedError for an unknown token: code 9109', async () => {
    const bad = new Cloudflare({
      apiToken: 'not-a-real-token-000000000000',
      baseURL: server.apiBase,
      maxRetries: 0,
    });
    const err = await expectApiError(() => bad.images.v1.stats.get({ account_id }), PermissionDeniedError);
    expect(err.status).toBe(403);
    expect(err.errors[0]?.code).toBe(9109);
    expect(err.errors[0]?.message).toBe('Invalid access token');
    const err2 = await expectApiError(
      () => bad.images.v1.create({ account_id, file: new File([new Uint8Array(png)], 'x.png') }),
      PermissionDeniedError,
    );
    expect(err2.errors[0]?.code).toBe(9109);
  });

  it('404 NotFoundError for an unknown image: code 5404, message "ERROR 5404…"', async () => {
    const err = await expectApiError(
      () => client.images.v1.get('does-not-exist', { account_id }),
      NotFoundError,
    );
    expect(err.status).toBe(404);
    expect(err.errors[0]?.code).toBe(5404);
    expect(err.errors[0]?.message).toMatch(/^ERROR 5404/);
    const uuidErr = await expectApiError(
      () => client.images.v1.get('107b9558-dd06-4bbd-5fef-9c2c16bb7900', { account_id }),
      NotFoundError,
    );
    expect(uuidErr.errors[0]?.code).toBe(5404);
  });

  it('409 ConflictError for a duplicate custom id: code 5409, one request, original untouched', async () => {
    const id = 'dup/original.png';
    const original = await upload(png, 'original.png', { id, metadata: { v: 1 }, creator: 'first' });

    const { client: retrying, calls } = countingClient(); // SDK default maxRetries (2)
    const err = await expectApiError(
      async () =>
        retrying.images.v1.create({
          account_id,
          id,
          file: await toFile(jpeg, 'replacement.jpg'),
          metadata: { v: 2 },
          creator: 'second',
        }),
      ConflictError,
    );
    expect(err.status).toBe(409);
    expect(err.errors[0]?.code).toBe(5409);
    expect(err.errors[0]?.message).toMatch(/^ERROR 5409: /);
    expect(err.headers.get('x-should-retry')).toBe('false');
    expect(calls).toEqual([{ method: 'POST', url: `${server.apiBase}/accounts/${account_id}/images/v1` }]);

    const after = await client.images.v1.get(id, { account_id });
    expect(after).toEqual(original);
    const blob = await client.images.v1.blobs.get(id, { account_id });
    expect(blob.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await blob.arrayBuffer()).equals(png)).toBe(true);
  });
});
