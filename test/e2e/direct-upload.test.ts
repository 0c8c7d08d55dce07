/**
 * End-to-end: direct creator upload (digest §2.11, §2.4, §1.2; docs/compat.md "Direct creator
 * upload") against a real Pictor server over HTTP, plus the draft lifecycle under an injected clock.
 *
 * - `POST /images/v2/direct_upload` with no body, JSON, multipart (metadata as one JSON part and as
 *   `metadata[k]` parts) and through the official SDK answers `{id, uploadURL}` + `result_info: null`;
 * - the draft shows in details (`draft: true`, `filename: null`, its meta) but not in lists or stats;
 * - the one-time upload URL takes one multipart `file` without credentials, answers the Image in the
 *   JSON envelope, and answers every failure as plain text `ERROR <code>: …`;
 * - expiry bounds, custom ids (with `/`), duplicates, quota, refused uploads leave the draft usable;
 * - expiry and the sweeper, driven through the composition root with a fake clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare, { BadRequestError, ConflictError } from 'cloudflare';
import { loadConfig } from '../../src/config/index.js';
import type { Clock } from '../../src/core/clock.js';
import { compose, type Composition } from '../../src/server/compose.js';
import { startServer } from '../../src/server/main.js';
import { TEST_ACCOUNT_ID, TEST_PROCESSES, TEST_TOKEN } from '../helpers/server.js';
import { makeImage } from '../helpers/images.js';
import { countFiles } from '../helpers/files.js';

// ---------------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------------

interface Srv {
  url: string;
  apiBase: string;
  dataDir: string;
  accountId: string;
  accountHash: string;
  token: string;
  /** Images Read only. */
  readToken: string;
  close(): Promise<void>;
}

const HOUR = 3600_000;
const MINUTE = 60_000;

/**
 * Seeds a fresh data dir through the composition root (the test account and a read-only token; the
 * `seed` callback may add more, e.g. a draft created under a clock in the past), then starts the real
 * server on the same directory.
 */
async function start(
  env: Record<string, string> = {},
  seed?: (c: Composition, clock: { t: number }) => Promise<void>,
): Promise<Srv> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pictor-direct-'));
  const fullEnv: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    PICTOR_DATA_DIR: dataDir,
    PICTOR_ACCOUNT_ID: TEST_ACCOUNT_ID,
    PICTOR_API_TOKEN: TEST_TOKEN,
    LOG_LEVEL: 'silent',
    ...env,
  };
  const clockState = { t: Date.now() };
  const c = await compose(loadConfig({ PICTOR_PROCESSES: TEST_PROCESSES, ...fullEnv }), {
    clock: { now: () => clockState.t },
  });
  let readToken: string;
  let accountHash: string;
  try {
    const account = await c.api.accounts.create({ id: TEST_ACCOUNT_ID });
    accountHash = account.hash;
    readToken = (
      await c.api.accounts.issueToken({
        accountIds: [TEST_ACCOUNT_ID],
        permissions: ['read'],
        label: 'read-only',
      })
    ).token;
    if (seed) await seed(c, clockState);
  } finally {
    await c.close();
  }
  const server = await startServer(loadConfig({ PICTOR_PROCESSES: TEST_PROCESSES, ...fullEnv }), {
    quiet: true,
  });
  return {
    url: server.url,
    apiBase: `${server.url}/client/v4`,
    dataDir,
    accountId: TEST_ACCOUNT_ID,
    accountHash,
    token: TEST_TOKEN,
    readToken,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface ErrorEntry {
  code: number;
  message: string;
}
interface Envelope<T = unknown> {
  success: boolean;
  result: T;
  result_info?: unknown;
  errors: ErrorEntry[];
  messages: unknown[];
}
interface Res<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  body: Envelope<T>;
}
interface ImageJson {
  id: string;
  filename: string | null;
  meta?: Record<string, unknown>;
  creator: string | null;
  requireSignedURLs: boolean;
  uploaded: string;
  variants: string[];
  draft?: boolean;
}
interface DirectUploadResult {
  id: string;
  uploadURL: string;
}

async function toRes<T>(res: Response): Promise<Res<T>> {
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed as Envelope<T> };
}

interface CallOpts {
  /** Bearer token; null sends none. Defaults to the write token. */
  token?: string | null;
  headers?: Record<string, string>;
  body?: BodyInit;
  json?: unknown;
}

/** `path` is relative to `/client/v4/accounts/{account}` (e.g. '/images/v2/direct_upload'). */
async function call<T = unknown>(
  srv: Srv,
  method: string,
  path: string,
  opts: CallOpts = {},
): Promise<Res<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const token = opts.token === undefined ? srv.token : opts.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(`${srv.apiBase}/accounts/${srv.accountId}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  return toRes<T>(res);
}

function expectOk<T>(res: Res<T>): T {
  const ctx = `${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, ctx).toBe(200);
  expect(res.headers.get('content-type') ?? '', ctx).toMatch(/^application\/json/);
  expect(res.body?.success, ctx).toBe(true);
  expect(res.body.errors, ctx).toEqual([]);
  expect(res.body.messages, ctx).toEqual([]);
  return res.body.result;
}

function expectError(res: Res, status: number, code: number): ErrorEntry {
  const ctx = `${res.status} ${res.text.slice(0, 300)}`;
  expect(res.body, `body is not JSON: ${ctx}`).toBeTypeOf('object');
  expect(res.status, ctx).toBe(status);
  expect(res.body.success, ctx).toBe(false);
  expect(res.body.result, ctx).toBeNull();
  const e = res.body.errors[0]!;
  expect(e.code, ctx).toBe(code);
  if (code >= 5000 && code < 6000) expect(e.message.startsWith(`ERROR ${code}: `), ctx).toBe(true);
  return e;
}

/** The upload URL answers errors as plain text `ERROR <code>: <message>` (digest §1.2). */
function expectTextError(res: Res, status: number, code: number): void {
  const ctx = `${res.status} ${res.headers.get('content-type')} ${res.text.slice(0, 300)}`;
  expect(res.status, ctx).toBe(status);
  expect(res.headers.get('content-type') ?? '', ctx).toMatch(/^text\/plain/);
  expect(res.text.startsWith(`ERROR ${code}: `), ctx).toBe(true);
  expect(res.text.length, ctx).toBeGreaterThan(`ERROR ${code}: `.length);
  expect(res.text.startsWith('{'), ctx).toBe(false);
}

function createDraft(srv: Srv, opts: CallOpts = {}): Promise<Res<DirectUploadResult>> {
  return call<DirectUploadResult>(srv, 'POST', '/images/v2/direct_upload', opts);
}

/** Creates a draft and returns `{id, uploadURL}`, checking the response shape. */
async function newDraft(srv: Srv, opts: CallOpts = {}): Promise<DirectUploadResult> {
  const res = await createDraft(srv, opts);
  const result = expectOk(res);
  expect(res.body.result_info).toBeNull();
  expect(Object.keys(result).sort()).toEqual(['id', 'uploadURL']);
  return result;
}

function fileForm(data: Buffer | string, filename = 'photo.png', type = 'image/png'): FormData {
  const fd = new FormData();
  fd.append('file', new Blob([typeof data === 'string' ? data : new Uint8Array(data)], { type }), filename);
  return fd;
}

/** POSTs to a one-time upload URL, without credentials. */
async function postUpload(
  uploadURL: string,
  body: BodyInit | undefined,
  headers: Record<string, string> = {},
): Promise<Res<ImageJson>> {
  const res = await fetch(uploadURL, { method: 'POST', headers, ...(body === undefined ? {} : { body }) });
  return toRes<ImageJson>(res);
}

function encodeId(id: string): string {
  return encodeURIComponent(id);
}

async function details(srv: Srv, id: string): Promise<Res<ImageJson>> {
  return call<ImageJson>(srv, 'GET', `/images/v1/${encodeId(id)}`);
}

async function listV1Ids(srv: Srv): Promise<string[]> {
  const r = expectOk(await call<{ images: ImageJson[] }>(srv, 'GET', '/images/v1?per_page=10000'));
  return r.images.map((i) => i.id);
}

async function listV2Ids(srv: Srv, query = ''): Promise<string[]> {
  const r = expectOk(
    await call<{ images: ImageJson[]; continuation_token: string | null }>(
      srv,
      'GET',
      `/images/v2?per_page=10000${query}`,
    ),
  );
  return r.images.map((i) => i.id);
}

async function statsCount(srv: Srv): Promise<{ current: number; allowed: number }> {
  const r = expectOk(
    await call<{ count: { current: number; allowed: number } }>(srv, 'GET', '/images/v1/stats'),
  );
  return r.count;
}

async function uploadImage(srv: Srv, id: string, data: Buffer): Promise<ImageJson> {
  const fd = fileForm(data);
  fd.append('id', id);
  return expectOk(await call<ImageJson>(srv, 'POST', '/images/v1', { body: fd }));
}

/** Regular files under `<dataDir>/blobs` (stored originals). */
function countBlobFiles(srv: Srv): number {
  return countFiles(join(srv.dataDir, 'blobs'));
}

const iso = (ms: number) => new Date(ms).toISOString();
const UUID_LIKE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------------------------------------------
// Main server
// ---------------------------------------------------------------------------------------------------

let srv: Srv;
let png: Buffer;
let jpeg: Buffer;
const EXPIRED_SEEDED_ID = 'seeded/expired-draft';

beforeAll(async () => {
  png = await makeImage('png', 64, 48);
  jpeg = await makeImage('jpeg', 80, 60);
  srv = await start({}, async (c, clock) => {
    // A draft created three hours ago with the default 30-minute expiry: expired when the server starts.
    clock.t = Date.now() - 3 * HOUR;
    await c.api.directUploads.create(TEST_ACCOUNT_ID, { id: EXPIRED_SEEDED_ID, metadata: { seeded: true } });
    clock.t = Date.now();
  });
});

afterAll(async () => {
  await srv?.close();
});

describe('create: request encodings', () => {
  it('(a) no body: an auto id and an upload URL on this server', async () => {
    const before = Date.now();
    const { id, uploadURL } = await newDraft(srv);
    expect(id).toMatch(UUID_LIKE);
    expect(uploadURL).toBe(`${srv.url}/upload/${srv.accountHash}/${id}`);
    const d = expectOk(await details(srv, id));
    expect(d.id).toBe(id);
    expect(d.draft).toBe(true);
    expect(d.filename).toBeNull();
    expect(d.meta).toBeUndefined();
    expect(d.creator).toBeNull();
    expect(d.requireSignedURLs).toBe(false);
    expect(Date.parse(d.uploaded)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(d.uploaded)).toBeLessThanOrEqual(Date.now() + 1000);
    expect(d.variants.length).toBeGreaterThanOrEqual(1);
    expect(d.variants).toContain(`${srv.url}/cdn-cgi/imagedelivery/${srv.accountHash}/${id}/public`);
  });

  it('(a) an empty body with a JSON content type is accepted too', async () => {
    const res = await createDraft(srv, { headers: { 'content-type': 'application/json' } });
    expect(expectOk(res).id).toMatch(UUID_LIKE);
  });

  it('(a) a JSON {} body is accepted', async () => {
    const res = await createDraft(srv, { json: {} });
    expect(expectOk(res).id).toMatch(UUID_LIKE);
  });

  it('(b) JSON {id, metadata, requireSignedURLs, creator, expiry}', async () => {
    const id = 'json/draft-one.png';
    const { id: got, uploadURL } = await newDraft(srv, {
      json: {
        id,
        metadata: { owner: 'alice', n: 3, nested: { ok: true } },
        requireSignedURLs: false,
        creator: 'user-7',
        expiry: iso(Date.now() + 2 * HOUR),
      },
    });
    expect(got).toBe(id);
    expect(uploadURL).toBe(`${srv.url}/upload/${srv.accountHash}/json/draft-one.png`);
    const d = expectOk(await details(srv, id));
    expect(d).toMatchObject({ id, draft: true, filename: null, creator: 'user-7', requireSignedURLs: false });
    expect(d.meta).toEqual({ owner: 'alice', n: 3, nested: { ok: true } });
  });

  it('(b) JSON requireSignedURLs: true (auto id) and metadata as JSON text', async () => {
    const { id } = await newDraft(srv, { json: { requireSignedURLs: true, metadata: '{"k":"v"}' } });
    const d = expectOk(await details(srv, id));
    expect(d.requireSignedURLs).toBe(true);
    expect(d.meta).toEqual({ k: 'v' });
    expect(d.draft).toBe(true);
  });

  it('(b) JSON with a wrongly typed field → 400 5400', async () => {
    expectError(await createDraft(srv, { json: { id: 42 } }), 400, 5400);
    expectError(await createDraft(srv, { json: { metadata: [1, 2] } }), 400, 5400);
    expectError(await createDraft(srv, { json: { requireSignedURLs: 'maybe' } }), 400, 5400);
    expectError(await createDraft(srv, { json: [1] }), 400, 5400);
  });

  it('(c) multipart with metadata as one JSON part', async () => {
    const fd = new FormData();
    fd.append('id', 'multipart/json-meta');
    fd.append('metadata', JSON.stringify({ a: 'b', num: 1 }));
    fd.append('requireSignedURLs', 'false');
    fd.append('creator', 'creator-mp');
    fd.append('expiry', iso(Date.now() + HOUR));
    const { id } = await newDraft(srv, { body: fd });
    expect(id).toBe('multipart/json-meta');
    const d = expectOk(await details(srv, id));
    expect(d).toMatchObject({ draft: true, filename: null, creator: 'creator-mp', requireSignedURLs: false });
    expect(d.meta).toEqual({ a: 'b', num: 1 });
  });

  it('(c) multipart with metadata[k] parts and requireSignedURLs=true', async () => {
    const fd = new FormData();
    fd.append('metadata[color]', 'red');
    fd.append('metadata[dims][w]', '10');
    fd.append('requireSignedURLs', 'true');
    fd.append('creator', 'bracket-user');
    const { id } = await newDraft(srv, { body: fd });
    const d = expectOk(await details(srv, id));
    expect(d.meta).toEqual({ color: 'red', dims: { w: '10' } });
    expect(d.requireSignedURLs).toBe(true);
    expect(d.creator).toBe('bracket-user');
  });

  it('(c) multipart with a file part → 400 (the file goes to the upload URL)', async () => {
    const res = await createDraft(srv, { body: fileForm(png) });
    expectError(res, 400, 5400);
  });

  it('official SDK: client.images.v2.directUploads.create', async () => {
    const client = new Cloudflare({ apiToken: srv.token, baseURL: srv.apiBase, maxRetries: 0 });
    const bare = await client.images.v2.directUploads.create({ account_id: srv.accountId });
    expect(bare.id).toMatch(UUID_LIKE);
    expect(bare.uploadURL).toBe(`${srv.url}/upload/${srv.accountHash}/${bare.id}`);

    const expiry = iso(Date.now() + 3 * HOUR);
    const made = await client.images.v2.directUploads.create({
      account_id: srv.accountId,
      id: 'sdk/drafts/one',
      metadata: { origin: 'sdk', deep: { x: 'y' } },
      requireSignedURLs: false,
      creator: 'sdk-user',
      expiry,
    });
    expect(made.id).toBe('sdk/drafts/one');
    expect(made.uploadURL).toBe(`${srv.url}/upload/${srv.accountHash}/sdk/drafts/one`);
    const d = await client.images.v1.get(made.id!, { account_id: srv.accountId });
    expect(d).toMatchObject({
      id: 'sdk/drafts/one',
      draft: true,
      filename: null,
      creator: 'sdk-user',
      requireSignedURLs: false,
    });
    expect(d.meta).toEqual({ origin: 'sdk', deep: { x: 'y' } });

    // The SDK completes the cycle: upload with fetch, then details lose `draft`.
    const up = expectOk(await postUpload(made.uploadURL!, fileForm(png, 'sdk.png')));
    expect(up.id).toBe('sdk/drafts/one');
    const after = (await client.images.v1.get(made.id!, { account_id: srv.accountId })) as Record<
      string,
      unknown
    >;
    expect(after.draft).toBeUndefined();
    expect(after.filename).toBe('sdk.png');
  });

  it('official SDK: custom id + requireSignedURLs → BadRequestError; duplicate → ConflictError, sent once', async () => {
    let calls = 0;
    const client = new Cloudflare({
      apiToken: srv.token,
      baseURL: srv.apiBase,
      fetch: (input: string | URL | Request, init?: RequestInit) => {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        if (!url.startsWith('data:')) calls++;
        return fetch(input, init);
      },
    });
    await expect(
      client.images.v2.directUploads.create({
        account_id: srv.accountId,
        id: 'sdk/private',
        requireSignedURLs: true,
      }),
    ).rejects.toBeInstanceOf(BadRequestError);
    await client.images.v2.directUploads.create({ account_id: srv.accountId, id: 'sdk/dup' });
    calls = 0;
    const err = await client.images.v2.directUploads
      .create({ account_id: srv.accountId, id: 'sdk/dup' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).errors[0]).toMatchObject({ code: 5409 });
    expect(calls, 'x-should-retry: false must stop the SDK retrying a 409').toBe(1);
  });
});

describe('draft visibility and completion', () => {
  it('a draft is absent from lists and stats until its upload completes; then it is an ordinary image', async () => {
    const countBefore = await statsCount(srv);
    const { id, uploadURL } = await newDraft(srv, {
      json: { metadata: { tag: 'lifecycle' }, creator: 'life' },
    });

    // Draft: details yes, lists no, stats no, blob no, delivery no.
    const d = expectOk(await details(srv, id));
    expect(d.draft).toBe(true);
    expect(d.filename).toBeNull();
    expect(d.meta).toEqual({ tag: 'lifecycle' });
    expect(await listV1Ids(srv)).not.toContain(id);
    expect(await listV2Ids(srv)).not.toContain(id);
    expect(await listV2Ids(srv, '&meta.tag[eq]=lifecycle')).toEqual([]);
    expect(await listV2Ids(srv, '&creator=life')).toEqual([]);
    expect((await statsCount(srv)).current).toBe(countBefore.current);
    expectError(await call(srv, 'GET', `/images/v1/${id}/blob`), 404, 5404);
    const delivery = await fetch(`${srv.url}/cdn-cgi/imagedelivery/${srv.accountHash}/${id}/public`);
    await delivery.arrayBuffer();
    expect(delivery.status).toBe(404);

    // Upload, without credentials.
    const res = await postUpload(uploadURL, fileForm(png, 'creator-photo.png'));
    const img = expectOk(res);
    expect(img.id).toBe(id);
    expect('draft' in img).toBe(false);
    expect(img.filename).toBe('creator-photo.png');
    expect(img.meta).toEqual({ tag: 'lifecycle' });
    expect(img.creator).toBe('life');
    expect(img.requireSignedURLs).toBe(false);
    expect(img.variants).toContain(`${srv.url}/cdn-cgi/imagedelivery/${srv.accountHash}/${id}/public`);

    // Now an ordinary image.
    const after = expectOk(await details(srv, id));
    expect('draft' in after).toBe(false);
    expect(after).toEqual(img);
    expect(await listV1Ids(srv)).toContain(id);
    expect(await listV2Ids(srv)).toContain(id);
    expect(await listV2Ids(srv, '&meta.tag[eq]=lifecycle')).toEqual([id]);
    expect(await listV2Ids(srv, '&creator=life')).toEqual([id]);
    expect((await statsCount(srv)).current).toBe(countBefore.current + 1);

    // The blob is the uploaded bytes, unchanged.
    const blob = await fetch(`${srv.apiBase}/accounts/${srv.accountId}/images/v1/${id}/blob`, {
      headers: { authorization: `Bearer ${srv.token}` },
    });
    expect(blob.status).toBe(200);
    expect(blob.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await blob.arrayBuffer()).equals(png)).toBe(true);

    // And it is delivered.
    const served = await fetch(`${srv.url}/cdn-cgi/imagedelivery/${srv.accountHash}/${id}/public`);
    await served.arrayBuffer();
    expect(served.status).toBe(200);
  });

  it('a completed draft is listed by its upload time, like its `uploaded` field says', async () => {
    // SPEC list v2 sort_order: "Sorting order by upload time"; compat: v1 oldest first (upload order).
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const { id: draftId, uploadURL } = await newDraft(srv, { json: { creator: 'order-test' } });
    await sleep(20);
    const fd = fileForm(png, 'early.png');
    fd.append('creator', 'order-test');
    const early = expectOk(await call<ImageJson>(srv, 'POST', '/images/v1', { body: fd }));
    await sleep(20);
    const late = expectOk(await postUpload(uploadURL, fileForm(jpeg, 'late.jpg', 'image/jpeg')));
    expect(late.id).toBe(draftId);
    expect(Date.parse(late.uploaded)).toBeGreaterThan(Date.parse(early.uploaded));

    expect(await listV2Ids(srv, '&creator=order-test'), 'v2 default (desc): newest upload first').toEqual([
      draftId,
      early.id,
    ]);
    expect(await listV2Ids(srv, '&creator=order-test&sort_order=asc'), 'v2 asc').toEqual([early.id, draftId]);
    const v1 = expectOk(await call<{ images: ImageJson[] }>(srv, 'GET', '/images/v1?creator=order-test'));
    expect(
      v1.images.map((i) => i.id),
      'v1: oldest upload first',
    ).toEqual([early.id, draftId]);
  });

  it('the upload URL is one-time: a second POST → 404 text/plain ERROR 5404', async () => {
    const { id, uploadURL } = await newDraft(srv);
    expectOk(await postUpload(uploadURL, fileForm(jpeg, 'first.jpg', 'image/jpeg')));
    const second = await postUpload(uploadURL, fileForm(png, 'second.png'));
    expectTextError(second, 404, 5404);
    // The first upload is untouched.
    const d = expectOk(await details(srv, id));
    expect(d.filename).toBe('first.jpg');
    const blob = await fetch(`${srv.apiBase}/accounts/${srv.accountId}/images/v1/${id}/blob`, {
      headers: { authorization: `Bearer ${srv.token}` },
    });
    expect(Buffer.from(await blob.arrayBuffer()).equals(jpeg)).toBe(true);
  });

  it('concurrent uploads to one URL: exactly one wins, the others 404 text, one blob stored', async () => {
    const { id, uploadURL } = await newDraft(srv);
    const blobsBefore = countBlobFiles(srv);
    const results = await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) =>
        postUpload(uploadURL, fileForm(i === 0 ? png : jpeg, `racer-${i}.bin`, 'application/octet-stream')),
      ),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(winners.length, results.map((r) => `${r.status} ${r.text.slice(0, 80)}`).join(' | ')).toBe(1);
    for (const r of results.filter((x) => x.status !== 200)) expectTextError(r, 404, 5404);
    const d = expectOk(await details(srv, id));
    expect(d.filename).toBe(winners[0]!.body.result.filename);
    expect(countBlobFiles(srv)).toBe(blobsBefore + 1);
  });

  it('credentials on the upload URL are neither needed nor harmful', async () => {
    const { uploadURL } = await newDraft(srv);
    expectOk(await postUpload(uploadURL, fileForm(png), { authorization: `Bearer ${srv.token}` }));
  });

  it('an unknown id or an unknown account hash in the upload URL → 404 text ERROR 5404', async () => {
    expectTextError(
      await postUpload(`${srv.url}/upload/${srv.accountHash}/no-such-draft`, fileForm(png)),
      404,
      5404,
    );
    const { uploadURL } = await newDraft(srv);
    const wrongHash = uploadURL.replace(`/upload/${srv.accountHash}/`, '/upload/AAAAAAAAAAAAAAAAAAAAAA/');
    expect(wrongHash).not.toBe(uploadURL);
    expectTextError(await postUpload(wrongHash, fileForm(png)), 404, 5404);
    // The draft behind the real URL is still usable.
    expectOk(await postUpload(uploadURL, fileForm(png)));
  });

  it('an upload URL of a finished (non-draft) image → 404 text, and the image is untouched', async () => {
    await uploadImage(srv, 'plain/not-a-draft', png);
    expectTextError(
      await postUpload(
        `${srv.url}/upload/${srv.accountHash}/plain/not-a-draft`,
        fileForm(jpeg, 'x.jpg', 'image/jpeg'),
      ),
      404,
      5404,
    );
    const d = expectOk(await details(srv, 'plain/not-a-draft'));
    expect(d.filename).toBe('photo.png');
  });

  it('an expired draft (created under a clock three hours ago) → details 404, upload URL 404 text', async () => {
    expectError(await details(srv, EXPIRED_SEEDED_ID), 404, 5404);
    expectTextError(
      await postUpload(`${srv.url}/upload/${srv.accountHash}/${EXPIRED_SEEDED_ID}`, fileForm(png)),
      404,
      5404,
    );
    expect(await listV2Ids(srv)).not.toContain(EXPIRED_SEEDED_ID);
  });
});

describe('expiry bounds', () => {
  it('now + 1 minute → 400 5400', async () => {
    expectError(await createDraft(srv, { json: { expiry: iso(Date.now() + MINUTE) } }), 400, 5400);
  });

  it('now + 7 hours → 400 5400', async () => {
    expectError(await createDraft(srv, { json: { expiry: iso(Date.now() + 7 * HOUR) } }), 400, 5400);
  });

  it('in the past → 400 5400', async () => {
    expectError(await createDraft(srv, { json: { expiry: iso(Date.now() - HOUR) } }), 400, 5400);
  });

  it('now + 2 hours, now + 3 minutes and now + 5h50m are accepted (JSON and multipart)', async () => {
    expectOk(await createDraft(srv, { json: { expiry: iso(Date.now() + 2 * HOUR) } }));
    expectOk(await createDraft(srv, { json: { expiry: iso(Date.now() + 3 * MINUTE) } }));
    expectOk(await createDraft(srv, { json: { expiry: iso(Date.now() + 5 * HOUR + 50 * MINUTE) } }));
    const fd = new FormData();
    fd.append('expiry', iso(Date.now() + 2 * HOUR));
    expectOk(await createDraft(srv, { body: fd }));
  });

  it('garbage expiry → 400 5400 (JSON and multipart)', async () => {
    for (const expiry of ['tomorrow', '', '1700000000', '2030-13-45T99:99:99Z']) {
      expectError(await createDraft(srv, { json: { expiry } }), 400, 5400);
    }
    expectError(await createDraft(srv, { json: { expiry: Date.now() + HOUR } }), 400, 5400);
    const fd = new FormData();
    fd.append('expiry', 'not-a-date');
    expectError(await createDraft(srv, { body: fd }), 400, 5400);
  });
});

describe('custom ids', () => {
  it('an id with / (and characters needing escapes) works end to end', async () => {
    const id = 'users/42/avatar pic 100%.png';
    const { id: got, uploadURL } = await newDraft(srv, { json: { id, metadata: { user: 42 } } });
    expect(got).toBe(id);
    // Each segment percent-encoded, the slashes kept.
    expect(uploadURL).toBe(`${srv.url}/upload/${srv.accountHash}/users/42/avatar%20pic%20100%25.png`);
    expect(expectOk(await details(srv, id)).draft).toBe(true);
    const img = expectOk(await postUpload(uploadURL, fileForm(png, 'avatar.png')));
    expect(img.id).toBe(id);
    expect('draft' in img).toBe(false);
    expect(img.meta).toEqual({ user: 42 });
    expect(await listV2Ids(srv)).toContain(id);
    // Literal slashes in the details path work as well (compat: "Ids in API paths").
    const bySlashes = expectOk(
      await call<ImageJson>(srv, 'GET', `/images/v1/users/42/${encodeURIComponent('avatar pic 100%.png')}`),
    );
    expect(bySlashes.id).toBe(id);
  });

  it('an id with ?, #, non-ASCII and an encoded-looking %2F round-trips through the upload URL', async () => {
    const id = 'odd/q?x=1#frag/ünïcødé 日本/a%2Fb';
    const { id: got, uploadURL } = await newDraft(srv, { json: { id } });
    expect(got).toBe(id);
    expect(uploadURL).toBe(
      `${srv.url}/upload/${srv.accountHash}/${id.split('/').map(encodeURIComponent).join('/')}`,
    );
    const img = expectOk(await postUpload(uploadURL, fileForm(png)));
    expect(img.id).toBe(id);
    expect('draft' in expectOk(await details(srv, id))).toBe(false);
  });

  it('a custom id with requireSignedURLs=true → 400 5400 (JSON and multipart), nothing created', async () => {
    expectError(await createDraft(srv, { json: { id: 'private/one', requireSignedURLs: true } }), 400, 5400);
    const fd = new FormData();
    fd.append('id', 'private/two');
    fd.append('requireSignedURLs', 'true');
    expectError(await createDraft(srv, { body: fd }), 400, 5400);
    expectError(await details(srv, 'private/one'), 404, 5404);
    expectError(await details(srv, 'private/two'), 404, 5404);
  });

  it('invalid custom ids → 400 5400', async () => {
    for (const id of [
      '/leading',
      'trailing/',
      '2cdc28f0-017a-49c4-9ed7-87056c83901b',
      'a//b',
      'x'.repeat(1025),
      'variants/x',
    ]) {
      expectError(await createDraft(srv, { json: { id } }), 400, 5400);
    }
  });

  it('a duplicate of an existing image → 409 5409 with x-should-retry: false; the image is untouched', async () => {
    const original = await uploadImage(srv, 'dup/existing-image', png);
    const res = await createDraft(srv, { json: { id: 'dup/existing-image' } });
    expectError(res, 409, 5409);
    expect(res.headers.get('x-should-retry')).toBe('false');
    const d = expectOk(await details(srv, 'dup/existing-image'));
    expect(d).toEqual(original);
    expect('draft' in d).toBe(false);
  });

  it('a duplicate of an existing draft → 409 5409 (JSON and multipart); the draft keeps its meta', async () => {
    await newDraft(srv, { json: { id: 'dup/existing-draft', metadata: { first: true } } });
    const res = await createDraft(srv, { json: { id: 'dup/existing-draft', metadata: { second: true } } });
    expectError(res, 409, 5409);
    expect(res.headers.get('x-should-retry')).toBe('false');
    const fd = new FormData();
    fd.append('id', 'dup/existing-draft');
    const res2 = await createDraft(srv, { body: fd });
    expectError(res2, 409, 5409);
    expect(res2.headers.get('x-should-retry')).toBe('false');
    expect(expectOk(await details(srv, 'dup/existing-draft')).meta).toEqual({ first: true });
  });

  it('a draft reserves its id: a normal upload with that id → 409 5409', async () => {
    const { uploadURL } = await newDraft(srv, { json: { id: 'dup/reserved' } });
    const res = await call(srv, 'POST', '/images/v1', {
      body: (() => {
        const fd = fileForm(png);
        fd.append('id', 'dup/reserved');
        return fd;
      })(),
    });
    expectError(res, 409, 5409);
    expect(expectOk(await details(srv, 'dup/reserved')).draft).toBe(true);
    expectOk(await postUpload(uploadURL, fileForm(png)));
  });
});

describe('upload URL errors are plain text; a refused upload leaves the draft usable', () => {
  it('non-multipart body → 415 5415', async () => {
    const { id, uploadURL } = await newDraft(srv);
    expectTextError(
      await postUpload(uploadURL, new Uint8Array(png), { 'content-type': 'image/png' }),
      415,
      5415,
    );
    expectTextError(
      await postUpload(uploadURL, JSON.stringify({ file: 'x' }), { 'content-type': 'application/json' }),
      415,
      5415,
    );
    expectTextError(await postUpload(uploadURL, undefined), 415, 5415);
    expect(expectOk(await details(srv, id)).draft).toBe(true);
    expectOk(await postUpload(uploadURL, fileForm(png)));
  });

  it('a text file as the image → 415 5455', async () => {
    const { id, uploadURL } = await newDraft(srv);
    expectTextError(
      await postUpload(uploadURL, fileForm('hello, I am not an image\n', 'notes.txt', 'text/plain')),
      415,
      5455,
    );
    // A text file declared as PNG is refused as well (format from the bytes).
    expectTextError(
      await postUpload(uploadURL, fileForm('still not an image', 'fake.png', 'image/png')),
      415,
      5455,
    );
    // Truncated PNG.
    expectTextError(await postUpload(uploadURL, fileForm(png.subarray(0, 60), 'cut.png')), 415, 5455);
    expect(expectOk(await details(srv, id)).draft).toBe(true);
    expect(await listV2Ids(srv)).not.toContain(id);
    expectOk(await postUpload(uploadURL, fileForm(png)));
  });

  it('a form without a file → 400 5400', async () => {
    const { id, uploadURL } = await newDraft(srv);
    const fd = new FormData();
    fd.append('note', 'no file here');
    expectTextError(await postUpload(uploadURL, fd), 400, 5400);
    expect(expectOk(await details(srv, id)).draft).toBe(true);
    expectOk(await postUpload(uploadURL, fileForm(png)));
  });

  it('a completely empty multipart form → 400 text', async () => {
    const { id, uploadURL } = await newDraft(srv);
    const res = await postUpload(uploadURL, new FormData());
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type') ?? '').toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^ERROR 54\d\d: /);
    expect(expectOk(await details(srv, id)).draft).toBe(true);
  });

  it('the image under another field name → 400 5400', async () => {
    const { uploadURL } = await newDraft(srv);
    const fd = new FormData();
    fd.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'a.png');
    expectTextError(await postUpload(uploadURL, fd), 400, 5400);
    expectOk(await postUpload(uploadURL, fileForm(png)));
  });
});

describe('authentication of the create endpoint', () => {
  it('no credentials → 400 9106', async () => {
    expectError(await createDraft(srv, { token: null }), 400, 9106);
  });

  it('an unknown token → 403 9109', async () => {
    expectError(await createDraft(srv, { token: 'not-a-real-token-000000000000' }), 403, 9109);
  });

  it('a read-only token → 403 10000, no draft created', async () => {
    const before = await listV2Ids(srv);
    expectError(
      await createDraft(srv, { token: srv.readToken, json: { id: 'readonly/attempt' } }),
      403,
      10000,
    );
    expectError(await details(srv, 'readonly/attempt'), 404, 5404);
    expect(await listV2Ids(srv)).toEqual(before);
  });

  it('a malformed account id → 7003', async () => {
    const res = await toRes(
      await fetch(`${srv.apiBase}/accounts/not-an-account/images/v2/direct_upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${srv.token}` },
      }),
    );
    expectError(res, 400, 7003);
  });
});

// ---------------------------------------------------------------------------------------------------
// Quota
// ---------------------------------------------------------------------------------------------------

describe('quota (PICTOR_IMAGE_ALLOWANCE=1)', () => {
  let q: Srv;
  beforeAll(async () => {
    q = await start({ PICTOR_IMAGE_ALLOWANCE: '1' });
  });
  afterAll(async () => {
    await q?.close();
  });

  it('drafts do not count; completing one on a full account → 403 text 5453 and it stays a draft', async () => {
    await uploadImage(q, 'quota/first', png);
    expect(await statsCount(q)).toEqual({ current: 1, allowed: 1 });

    // Creating drafts is allowed: they do not count against the allowance.
    const { id, uploadURL } = await newDraft(q, { json: { metadata: { q: 1 } } });
    expect(await statsCount(q)).toEqual({ current: 1, allowed: 1 });

    expectTextError(await postUpload(uploadURL, fileForm(jpeg, 'over.jpg', 'image/jpeg')), 403, 5453);
    const d = expectOk(await details(q, id));
    expect(d.draft).toBe(true);
    expect(d.filename).toBeNull();
    expect(await statsCount(q)).toEqual({ current: 1, allowed: 1 });
    expect(await listV2Ids(q)).toEqual(['quota/first']);

    // Freeing a slot makes the same draft completable.
    expectOk(await call(q, 'DELETE', `/images/v1/${encodeId('quota/first')}`));
    const img = expectOk(await postUpload(uploadURL, fileForm(jpeg, 'over.jpg', 'image/jpeg')));
    expect(img.id).toBe(id);
    expect(img.meta).toEqual({ q: 1 });
    expect(await statsCount(q)).toEqual({ current: 1, allowed: 1 });
  });

  it('two drafts completed at once with one slot left: one 200, one 403 text 5453, no orphan blob', async () => {
    for (const id of await listV2Ids(q)) expectOk(await call(q, 'DELETE', `/images/v1/${encodeId(id)}`));
    expect((await statsCount(q)).current).toBe(0);
    const a = await newDraft(q);
    const b = await newDraft(q);
    const blobsBefore = countBlobFiles(q);
    const [ra, rb] = await Promise.all([
      postUpload(a.uploadURL, fileForm(png)),
      postUpload(b.uploadURL, fileForm(jpeg, 'b.jpg', 'image/jpeg')),
    ]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses, `${ra.text.slice(0, 80)} | ${rb.text.slice(0, 80)}`).toEqual([200, 403]);
    expectTextError(ra.status === 403 ? ra : rb, 403, 5453);
    const loser = ra.status === 403 ? a : b;
    expect(expectOk(await details(q, loser.id)).draft).toBe(true);
    expect(await statsCount(q)).toEqual({ current: 1, allowed: 1 });
    expect(countBlobFiles(q)).toBe(blobsBefore + 1);
  });
});

// ---------------------------------------------------------------------------------------------------
// Expiry and the sweeper, with an injected clock
// ---------------------------------------------------------------------------------------------------

describe('expiry under a fake clock (composition root)', () => {
  let dir: string;
  let c: Composition;
  const T0 = Date.parse('2030-01-01T00:00:00.000Z');
  const clock: Clock & { t: number } = { t: T0, now: () => clock.t };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pictor-direct-clock-'));
    c = await compose(
      loadConfig({
        PICTOR_PROCESSES: TEST_PROCESSES,
        PICTOR_DATA_DIR: dir,
        LOG_LEVEL: 'silent',
        PORT: '0',
        HOST: '127.0.0.1',
      }),
      { clock },
    );
    await c.api.accounts.create({ id: TEST_ACCOUNT_ID });
  });
  afterAll(async () => {
    await c?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function rejection(p: Promise<unknown>): Promise<{ code: number; status: number }> {
    try {
      await p;
    } catch (e) {
      return { code: (e as { code: number }).code, status: (e as { status: number }).status };
    }
    throw new Error('expected a rejection');
  }

  it('default expiry is 30 minutes: valid up to the instant, 404 after, and complete() refuses', async () => {
    clock.t = T0;
    const draft = await c.api.directUploads.create(TEST_ACCOUNT_ID, {
      id: 'clock/default',
      metadata: { a: 1 },
    });
    expect(draft.draft).toBe(true);
    expect(draft.expiresAt).toBe(T0 + 30 * MINUTE);
    expect((await c.api.images.get(TEST_ACCOUNT_ID, 'clock/default')).draft).toBe(true);

    clock.t = T0 + 30 * MINUTE;
    expect((await c.api.images.get(TEST_ACCOUNT_ID, 'clock/default')).draft).toBe(true);

    clock.t = T0 + 30 * MINUTE + 1;
    expect(await rejection(c.api.images.get(TEST_ACCOUNT_ID, 'clock/default'))).toEqual({
      code: 5404,
      status: 404,
    });
    expect(
      await rejection(
        c.api.directUploads.complete(TEST_ACCOUNT_ID, 'clock/default', { data: png, filename: 'late.png' }),
      ),
    ).toEqual({
      code: 5404,
      status: 404,
    });
    // The refused completion stored nothing and left the row a draft until the sweep.
    const row = await c.store.getImage(TEST_ACCOUNT_ID, 'clock/default');
    expect(row?.draft).toBe(true);
    expect(row?.blobKey).toBeNull();
  });

  it('sweep() removes exactly the expired drafts', async () => {
    // State: 'clock/default' expired (from the previous test). Add a live draft and a finished image.
    clock.t = T0 + 31 * MINUTE;
    await c.api.directUploads.create(TEST_ACCOUNT_ID, { id: 'clock/live' });
    const done = await c.api.directUploads.create(TEST_ACCOUNT_ID, { id: 'clock/done' });
    await c.api.directUploads.complete(TEST_ACCOUNT_ID, done.id, { data: png, filename: 'done.png' });

    expect(await c.api.directUploads.sweep()).toBe(1);
    expect(await c.store.getImage(TEST_ACCOUNT_ID, 'clock/default')).toBeNull();
    expect((await c.store.getImage(TEST_ACCOUNT_ID, 'clock/live'))?.draft).toBe(true);
    expect((await c.store.getImage(TEST_ACCOUNT_ID, 'clock/done'))?.draft).toBe(false);
    expect(await c.api.directUploads.sweep()).toBe(0);

    // Far in the future: the live draft expires and is swept; the finished image never is.
    clock.t = T0 + 10 * HOUR;
    expect(await rejection(c.api.images.get(TEST_ACCOUNT_ID, 'clock/live'))).toEqual({
      code: 5404,
      status: 404,
    });
    expect(await c.api.directUploads.sweep()).toBe(1);
    expect(await c.store.getImage(TEST_ACCOUNT_ID, 'clock/live')).toBeNull();
    expect((await c.api.images.get(TEST_ACCOUNT_ID, 'clock/done')).draft).toBe(false);
  });

  it('an explicit expiry is measured against the injected clock, and the id is free again after the sweep', async () => {
    clock.t = T0 + 20 * HOUR;
    const base = clock.t;
    expect(
      await rejection(c.api.directUploads.create(TEST_ACCOUNT_ID, { expiry: iso(base + MINUTE) })),
    ).toEqual({ code: 5400, status: 400 });
    expect(
      await rejection(c.api.directUploads.create(TEST_ACCOUNT_ID, { expiry: iso(base + 7 * HOUR) })),
    ).toEqual({ code: 5400, status: 400 });
    // Real "now + 2h" is decades before the fake clock: refused.
    expect(
      await rejection(c.api.directUploads.create(TEST_ACCOUNT_ID, { expiry: iso(Date.now() + 2 * HOUR) })),
    ).toEqual({ code: 5400, status: 400 });

    const d = await c.api.directUploads.create(TEST_ACCOUNT_ID, {
      id: 'clock/explicit',
      expiry: iso(base + 2 * HOUR),
    });
    expect(d.expiresAt).toBe(base + 2 * HOUR);

    clock.t = base + 2 * HOUR - 1;
    const img = await c.api.directUploads.complete(TEST_ACCOUNT_ID, 'clock/explicit', {
      data: png,
      filename: null,
    });
    expect(img.draft).toBe(false);
    expect(img.filename).toBe('explicit');
    expect(img.uploaded).toBe(base + 2 * HOUR - 1);
    expect(img.expiresAt).toBeNull();

    // An expired-and-swept draft's id can be used again.
    clock.t = base + 3 * HOUR;
    await c.api.directUploads.create(TEST_ACCOUNT_ID, { id: 'clock/reuse' });
    clock.t = base + 4 * HOUR;
    expect(await c.api.directUploads.sweep()).toBe(1);
    const again = await c.api.directUploads.create(TEST_ACCOUNT_ID, { id: 'clock/reuse' });
    expect(again.expiresAt).toBe(base + 4 * HOUR + 30 * MINUTE);
  });
});
