/**
 * Error paths of the Images v1 API against the real server over HTTP (raw fetch, no SDK).
 *
 * Every failure is checked for its HTTP status, the failure envelope (`success: false`,
 * `result: null`, `errors[0].code`), the `ERROR <code>: ` message prefix on Images codes (5xxx) and
 * its absence on generic Cloudflare codes, and, where the request tried to write, that nothing was
 * stored: stats count, image list, the id (404), and below the API the blobs (files under
 * `<dataDir>/blobs`, or objects in the S3 bucket) and the rows of the images table.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CallOpts as BaseCallOpts,
  type ErrorEntry,
  type ImageJson,
  type Res,
  request,
  toRes,
} from '../helpers/api.js';
import { makeImage } from '../helpers/images.js';
import { issueReadToken, startServer, TEST_TOKEN, type TestServer } from '../helpers/server.js';

// ---------------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------------

interface Srv extends TestServer {
  /** Images Read only, on TEST_ACCOUNT_ID. */
  readToken: string;
  /** A second account, with its own read+write token. */
  otherAccountId: string;
  otherToken: string;
}

/**
 * A test server seeded first (a second account, a read-only token and a token of the second account)
 * through the composition root.
 */
async function start(env: Record<string, string> = {}): Promise<Srv> {
  const seeded = { readToken: '', otherAccountId: '', otherToken: '' };
  const server = await startServer({
    env,
    name: 'pictor-errors',
    seed: async (c) => {
      const other = await c.api.accounts.create();
      seeded.otherAccountId = other.id;
      seeded.readToken = await issueReadToken(c);
      seeded.otherToken = (
        await c.api.accounts.issueToken({
          accountIds: [other.id],
          permissions: ['read', 'write'],
          label: 'other',
        })
      ).token;
    },
  });
  return Object.assign(server, seeded);
}

interface CallOpts extends BaseCallOpts {
  /** Account id in the path; defaults to the test account. Token: the write token unless told otherwise. */
  account?: string;
}

/** `path` is relative to `/client/v4/accounts/{account}/images/v1` (e.g. '' or '/stats'). */
async function call(srv: Srv, method: string, path: string, opts: CallOpts = {}): Promise<Res> {
  const url = `${srv.apiBase}/accounts/${opts.account ?? srv.accountId}/images/v1${path}`;
  return request(url, method, { ...opts, token: opts.token === undefined ? srv.token : opts.token });
}

/** Raw request to any path under the server (for routing tests). */
async function raw(
  srv: Srv,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Res> {
  return toRes(await fetch(`${srv.url}${path}`, { method, headers }));
}

/** Asserts the failure envelope: status, code, prefix rule. Returns the first error entry. */
function expectError(res: Res, status: number, code: number): ErrorEntry {
  const ctx = `${res.status} ${res.text.slice(0, 300)}`;
  expect(res.body, `body is not JSON: ${ctx}`).toBeTypeOf('object');
  expect(res.status, ctx).toBe(status);
  expect(res.body.success, ctx).toBe(false);
  expect(res.body.result, ctx).toBeNull();
  expect(Array.isArray(res.body.errors), ctx).toBe(true);
  expect(res.body.errors.length, ctx).toBeGreaterThanOrEqual(1);
  expect(res.body.messages, ctx).toEqual([]);
  const e = res.body.errors[0]!;
  expect(e.code, ctx).toBe(code);
  expect(typeof e.message, ctx).toBe('string');
  if (code >= 5000 && code < 6000) {
    expect(e.message.startsWith(`ERROR ${code}: `), ctx).toBe(true);
    expect(e.message.length, ctx).toBeGreaterThan(`ERROR ${code}: `.length);
  } else {
    expect(e.message, ctx).not.toMatch(/^ERROR \d+:/);
    expect(e.message.length, ctx).toBeGreaterThan(0);
  }
  expect(res.headers.get('content-type') ?? '', ctx).toMatch(/^application\/json/);
  return e;
}

function expectOk(res: Res): unknown {
  const ctx = `${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, ctx).toBe(200);
  expect(res.body?.success, ctx).toBe(true);
  return res.body.result;
}

interface Snapshot {
  count: number;
  ids: string[];
  /** Blobs (files, or S3 objects) and image rows, counted below the API. */
  blobs: number;
  rows: number;
}

async function snapshot(srv: Srv, account?: string, token?: string): Promise<Snapshot> {
  const opts = { ...(account ? { account } : {}), ...(token ? { token } : {}) };
  const stats = expectOk(await call(srv, 'GET', '/stats', opts)) as { count: { current: number } };
  const list = expectOk(await call(srv, 'GET', '?per_page=10000', opts)) as { images: Array<{ id: string }> };
  return {
    count: stats.count.current,
    ids: list.images.map((i) => i.id).sort(),
    ...(await srv.stored()),
  };
}

/** Asserts that nothing was written since `before`, and that the given ids do not exist. */
async function expectNothingStored(
  srv: Srv,
  before: Snapshot,
  ids: string[] = [],
  account?: string,
  token?: string,
): Promise<void> {
  const after = await snapshot(srv, account, token);
  expect(after.count, 'stats count changed').toBe(before.count);
  expect(after.ids, 'image list changed').toEqual(before.ids);
  expect(after.blobs, 'stored blobs changed').toBe(before.blobs);
  expect(after.rows, 'image rows changed').toBe(before.rows);
  for (const id of ids) {
    const opts = { ...(account ? { account } : {}), ...(token ? { token } : {}) };
    expectError(await call(srv, 'GET', `/${encodeId(id)}`, opts), 404, 5404);
  }
}

function encodeId(id: string): string {
  return id.split('/').map(encodeURIComponent).join('/');
}

function bytes(buf: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(buf);
}

interface FilePart {
  data: Buffer;
  name?: string;
  type?: string;
}

function form(fields: Record<string, string | FilePart>, extra: Array<[string, string]> = []): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string') f.append(k, v);
    else
      f.append(
        k,
        new Blob([bytes(v.data)], { type: v.type ?? 'application/octet-stream' }),
        v.name ?? 'file.bin',
      );
  }
  for (const [k, v] of extra) f.append(k, v);
  return f;
}

async function upload(
  srv: Srv,
  fields: Record<string, string | FilePart>,
  opts: CallOpts = {},
): Promise<Res> {
  return call(srv, 'POST', '', { ...opts, body: form(fields) });
}

async function uploadOk(srv: Srv, fields: Record<string, string | FilePart>): Promise<ImageJson> {
  return expectOk(await upload(srv, fields)) as ImageJson;
}

/** Metadata object whose compact JSON is exactly `n` UTF-8 bytes. */
function metadataOfBytes(n: number, fill = 'x'): Record<string, string> {
  const base = Buffer.byteLength(JSON.stringify({ k: '' }));
  const obj = { k: fill.repeat(n - base) };
  expect(Buffer.byteLength(JSON.stringify(obj))).toBe(n);
  return obj;
}

let PNG: Buffer;
let JPEG: Buffer;

beforeAll(async () => {
  PNG = await makeImage('png', 64, 48);
  JPEG = await makeImage('jpeg', 64, 48);
});

// ---------------------------------------------------------------------------------------------------
// Auth and routing
// ---------------------------------------------------------------------------------------------------

describe('auth and routing', () => {
  let srv: Srv;
  let existing: ImageJson;

  beforeAll(async () => {
    srv = await start();
    existing = await uploadOk(srv, {
      file: { data: PNG, name: 'a.png', type: 'image/png' },
      metadata: JSON.stringify({ v: 1 }),
    });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('no credentials → 9106/400 on reads and writes, and nothing stored', async () => {
    const before = await snapshot(srv);
    expectError(await call(srv, 'GET', '', { token: null }), 400, 9106);
    expectError(await call(srv, 'GET', '/stats', { token: null }), 400, 9106);
    expectError(await call(srv, 'GET', `/${existing.id}`, { token: null }), 400, 9106);
    const e = expectError(
      await upload(srv, { file: { data: PNG, name: 'b.png', type: 'image/png' } }, { token: null }),
      400,
      9106,
    );
    expect(e.message).toBe('Missing X-Auth-Key, X-Auth-Email or Authorization headers');
    expectError(await call(srv, 'DELETE', `/${existing.id}`, { token: null }), 400, 9106);
    await expectNothingStored(srv, before);
  });

  it.each([
    ['Basic x'],
    ['Basic dXNlcjpwYXNz'],
    ['Bearer'],
    ['Bearer '],
    ['Bearer abc def'],
    ['Bearer abc!def'],
    ['Bearer abc.def'],
    ['Bearer abc"def'],
    [`Bearer ${TEST_TOKEN} extra`],
    ['Token abcdefghijklmnopqrstuvwxyz'],
  ])('Authorization %j → 6003/400 with error_chain 6111', async (authorization) => {
    const res = await call(srv, 'GET', '', { token: null, headers: { authorization } });
    const e = expectError(res, 400, 6003);
    expect(e.message).toBe('Invalid request headers');
    expect(e.error_chain?.[0]?.code).toBe(6111);
    expect(e.error_chain?.[0]?.message).not.toMatch(/^ERROR \d+:/);
  });

  it('malformed Authorization on an upload stores nothing', async () => {
    const before = await snapshot(srv);
    const e = expectError(
      await upload(
        srv,
        { file: { data: PNG, name: 'b.png', type: 'image/png' }, id: 'auth/malformed' },
        { token: null, headers: { authorization: 'Basic x' } },
      ),
      400,
      6003,
    );
    expect(e.error_chain?.[0]?.code).toBe(6111);
    await expectNothingStored(srv, before, ['auth/malformed']);
  });

  it('X-Auth-Email without X-Auth-Key → 6003/400 (chain 6103)', async () => {
    const e = expectError(
      await call(srv, 'GET', '', { token: null, headers: { 'x-auth-email': 'user@example.com' } }),
      400,
      6003,
    );
    expect(e.error_chain?.[0]?.code).toBe(6103);
  });

  it('X-Auth-Key without X-Auth-Email → 6003/400 (chain 6102)', async () => {
    const e = expectError(
      await call(srv, 'GET', '', { token: null, headers: { 'x-auth-key': 'abcdef0123456789' } }),
      400,
      6003,
    );
    expect(e.error_chain?.[0]?.code).toBe(6102);
  });

  it('unknown global key (well-formed) → 9103/403', async () => {
    expectError(
      await call(srv, 'GET', '', {
        token: null,
        headers: {
          'x-auth-email': 'user@example.com',
          'x-auth-key': 'abcdef0123456789abcdef0123456789abcde',
        },
      }),
      403,
      9103,
    );
  });

  it('unknown token → 9109/403 on reads and writes, and nothing stored', async () => {
    const before = await snapshot(srv);
    const bogus = 'x'.repeat(40);
    const e = expectError(await call(srv, 'GET', '', { token: bogus }), 403, 9109);
    expect(e.message).toBe('Invalid access token');
    expectError(
      await upload(
        srv,
        { file: { data: PNG, name: 'b.png', type: 'image/png' }, id: 'auth/unknown' },
        { token: bogus },
      ),
      403,
      9109,
    );
    expectError(await call(srv, 'DELETE', `/${existing.id}`, { token: bogus }), 403, 9109);
    expectError(
      await call(srv, 'POST', '/variants', { token: bogus, json: { id: 'bogus', options: { width: 10 } } }),
      403,
      9109,
    );
    await expectNothingStored(srv, before, ['auth/unknown']);
    // Same token with a different case is a different token.
    expectError(await call(srv, 'GET', '', { token: TEST_TOKEN.toUpperCase() }), 403, 9109);
  });

  it('read-only token: GETs work', async () => {
    expectOk(await call(srv, 'GET', '', { token: srv.readToken }));
    expectOk(await call(srv, 'GET', '/stats', { token: srv.readToken }));
    expectOk(await call(srv, 'GET', `/${existing.id}`, { token: srv.readToken }));
    expectOk(await call(srv, 'GET', '/variants', { token: srv.readToken }));
    expectOk(await call(srv, 'GET', '/variants/public', { token: srv.readToken }));
    expectOk(await call(srv, 'GET', '/keys', { token: srv.readToken }));
    const blob = await fetch(`${srv.apiBase}/accounts/${srv.accountId}/images/v1/${existing.id}/blob`, {
      headers: { authorization: `Bearer ${srv.readToken}` },
    });
    expect(blob.status).toBe(200);
    expect(Buffer.from(await blob.arrayBuffer()).equals(PNG)).toBe(true);
  });

  it('read-only token: POST upload → 10000/403 and nothing stored', async () => {
    const before = await snapshot(srv);
    const e = expectError(
      await upload(
        srv,
        { file: { data: PNG, name: 'b.png', type: 'image/png' }, id: 'auth/readonly' },
        { token: srv.readToken },
      ),
      403,
      10000,
    );
    expect(e.message).toBe('Authentication error');
    await expectNothingStored(srv, before, ['auth/readonly']);
  });

  it('read-only token: PATCH/DELETE image → 10000/403 and the image is unchanged', async () => {
    expectError(
      await call(srv, 'PATCH', `/${existing.id}`, { token: srv.readToken, json: { metadata: { v: 2 } } }),
      403,
      10000,
    );
    expectError(await call(srv, 'DELETE', `/${existing.id}`, { token: srv.readToken }), 403, 10000);
    const img = expectOk(await call(srv, 'GET', `/${existing.id}`)) as ImageJson;
    expect(img.meta).toEqual({ v: 1 });
  });

  it('read-only token: variant and key writes → 10000/403 and nothing changes', async () => {
    const variantsBefore = expectOk(await call(srv, 'GET', '/variants'));
    const keysBefore = expectOk(await call(srv, 'GET', '/keys'));
    expectError(
      await call(srv, 'POST', '/variants', {
        token: srv.readToken,
        json: { id: 'ro', options: { width: 10 } },
      }),
      403,
      10000,
    );
    expectError(
      await call(srv, 'PATCH', '/variants/public', {
        token: srv.readToken,
        json: { options: { width: 10 } },
      }),
      403,
      10000,
    );
    expectError(await call(srv, 'DELETE', '/variants/public', { token: srv.readToken }), 403, 10000);
    expectError(await call(srv, 'PUT', '/keys/rokey', { token: srv.readToken }), 403, 10000);
    expectError(await call(srv, 'DELETE', '/keys/default', { token: srv.readToken }), 403, 10000);
    expect(expectOk(await call(srv, 'GET', '/variants'))).toEqual(variantsBefore);
    expect(expectOk(await call(srv, 'GET', '/keys'))).toEqual(keysBefore);
  });

  it("a token of account A on account B's path → 10000/403 (both directions), nothing stored", async () => {
    const beforeA = await snapshot(srv);
    const beforeB = await snapshot(srv, srv.otherAccountId, srv.otherToken);
    // A's tokens on B.
    expectError(await call(srv, 'GET', '', { account: srv.otherAccountId }), 403, 10000);
    expectError(await call(srv, 'GET', '/stats', { account: srv.otherAccountId }), 403, 10000);
    expectError(
      await call(srv, 'GET', '', { account: srv.otherAccountId, token: srv.readToken }),
      403,
      10000,
    );
    expectError(
      await upload(
        srv,
        { file: { data: PNG, name: 'b.png', type: 'image/png' }, id: 'cross/a-on-b' },
        { account: srv.otherAccountId },
      ),
      403,
      10000,
    );
    // B's token on A.
    expectError(await call(srv, 'GET', `/${existing.id}`, { token: srv.otherToken }), 403, 10000);
    expectError(await call(srv, 'DELETE', `/${existing.id}`, { token: srv.otherToken }), 403, 10000);
    expectError(
      await upload(
        srv,
        { file: { data: PNG, name: 'b.png', type: 'image/png' }, id: 'cross/b-on-a' },
        { token: srv.otherToken },
      ),
      403,
      10000,
    );
    await expectNothingStored(srv, beforeA, ['cross/b-on-a']);
    await expectNothingStored(srv, beforeB, ['cross/a-on-b'], srv.otherAccountId, srv.otherToken);
    expectOk(await call(srv, 'GET', `/${existing.id}`));
  });

  it('a well-formed but unknown account id → 10000/403', async () => {
    expectError(await call(srv, 'GET', '', { account: 'f'.repeat(32) }), 403, 10000);
  });

  it.each([
    ['not-an-account'],
    ['023E105F4ECEF8AD9CA31A8372D0C353'],
    ['023e105f4ecef8ad9ca31a8372d0c35'],
    ['023e105f4ecef8ad9ca31a8372d0c3533'],
    ['023e105f4ecef8ad9ca31a8372d0c35g'],
  ])('malformed account id %j → 7003/400', async (account) => {
    const e = expectError(await call(srv, 'GET', '', { account }), 400, 7003);
    expect(e.error_chain?.[0]?.code).toBe(7000);
    // Also without credentials, and for a write.
    expectError(await call(srv, 'GET', '', { account, token: null }), 400, 7003);
    expectError(
      await upload(srv, { file: { data: PNG, name: 'b.png', type: 'image/png' } }, { account }),
      400,
      7003,
    );
  });

  it.each([
    ['PUT', '/keys/a/b/c'],
    ['POST', '/keys/a/b/c'],
    ['PUT', '/stats'],
    ['POST', '/stats'],
    ['PUT', ''],
    ['PUT', '/variants'],
    ['POST', '/variants/public'],
    ['PUT', `/some-image`],
  ])('unknown route %s images/v1%s → 7003/400', async (method, path) => {
    const before = await snapshot(srv);
    const e = expectError(await call(srv, method, path, { json: {} }), 400, 7003);
    expect(e.message).toMatch(/Could not route/);
    await expectNothingStored(srv, before);
  });

  it.each([
    ['GET', '/%E0%A4%A'],
    ['GET', '/%ZZ'],
    ['DELETE', '/%ZZ'],
    ['GET', '/a/%ZZ/blob'],
    ['GET', '/variants/%ZZ'],
    ['PUT', '/keys/%ZZ'],
  ])('malformed percent-encoding in the path (%s images/v1%s) → 7003/400 envelope', async (method, path) => {
    const before = await snapshot(srv);
    expectError(await call(srv, method, path), 400, 7003);
    await expectNothingStored(srv, before);
  });

  it.each([
    ['GET', '/client/v4/accounts/023e105f4ecef8ad9ca31a8372d0c353/images/v3'],
    ['GET', '/client/v4/accounts/023e105f4ecef8ad9ca31a8372d0c353/unknown'],
    ['GET', '/client/v4/nothing'],
    ['GET', '/health'],
    ['POST', '/'],
  ])('unknown path %s %s → 7003/400', async (method, path) => {
    expectError(await raw(srv, method, path, { authorization: `Bearer ${TEST_TOKEN}` }), 400, 7003);
  });
});

// ---------------------------------------------------------------------------------------------------
// Upload
// ---------------------------------------------------------------------------------------------------

describe('upload validation', () => {
  let srv: Srv;

  beforeAll(async () => {
    srv = await start();
    // One stored image so "unchanged" is not trivially "empty".
    await uploadOk(srv, { file: { data: PNG, name: 'seed.png', type: 'image/png' } });
  });
  afterAll(async () => {
    await srv?.close();
  });

  /** Runs a failing write and checks the error and that nothing was stored. */
  async function refused(
    res: () => Promise<Res>,
    status: number,
    code: number,
    ids: string[] = [],
  ): Promise<ErrorEntry> {
    const before = await snapshot(srv);
    const e = expectError(await res(), status, code);
    await expectNothingStored(srv, before, ids);
    return e;
  }

  it('a body that ends inside the file part → 400 5450, nothing stored (it hung on PostgreSQL)', async () => {
    // A small body has all arrived before the handler reads it: on PostgreSQL the auth hook awaits a
    // query first, and the cut-short part had been destroyed by then.
    const boundary = 'cutShort';
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\ncut/short\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
      ),
      PNG.subarray(0, 40),
    ]);
    // A hang shows as this test's timeout.
    const send = () =>
      call(srv, 'POST', '', {
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: new Uint8Array(body),
      });
    for (let i = 0; i < 3; i++) await refused(send, 400, 5450, ['cut/short']);
  });

  it('raw image/png body → 5415/415', async () => {
    const e = await refused(
      () => call(srv, 'POST', '', { headers: { 'content-type': 'image/png' }, body: bytes(PNG) }),
      415,
      5415,
    );
    expect(e.message).toBe(
      'ERROR 5415: Images must be uploaded as a form, not as raw image data. Please use multipart/form-data format.',
    );
  });

  it('JSON body → 5415/415', async () => {
    await refused(
      () => call(srv, 'POST', '', { json: { url: 'http://127.0.0.1:9/a.png', id: 'json/upload' } }),
      415,
      5415,
      ['json/upload'],
    );
  });

  it('urlencoded body and no body → 5415/415', async () => {
    await refused(
      () =>
        call(srv, 'POST', '', {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'id=urlenc&url=http%3A%2F%2F127.0.0.1%3A9%2Fa.png',
        }),
      415,
      5415,
      ['urlenc'],
    );
    await refused(() => call(srv, 'POST', ''), 415, 5415);
  });

  it('multipart without a file field → 5400', async () => {
    await refused(() => upload(srv, { id: 'nofile/x', metadata: '{"a":1}' }), 400, 5400, ['nofile/x']);
    await refused(() => call(srv, 'POST', '', { body: new FormData() }), 400, 5400);
  });

  it('file in a field not named file → 5400', async () => {
    await refused(
      () => upload(srv, { image: { data: PNG, name: 'a.png', type: 'image/png' }, id: 'wrongfield' }),
      400,
      5400,
      ['wrongfield'],
    );
  });

  it('file of 10 MB + 1 byte → 5413/413', async () => {
    const big = randomBytes(10 * 1024 * 1024 + 1);
    const e = await refused(
      () => upload(srv, { file: { data: big, name: 'big.png', type: 'image/png' }, id: 'too/big' }),
      413,
      5413,
      ['too/big'],
    );
    expect(e.message).toBe('ERROR 5413: Maximum image size of 10 MB is reached');
  });

  it('file of exactly 10 MB is not refused for its size (random bytes → 5455)', async () => {
    const exact = randomBytes(10 * 1024 * 1024);
    await refused(
      () => upload(srv, { file: { data: exact, name: 'exact.png', type: 'image/png' } }),
      415,
      5455,
    );
  });

  it('text file named .jpg with content-type image/jpeg → 5455/415', async () => {
    const e = await refused(
      () =>
        upload(srv, {
          file: {
            data: Buffer.from('hello, this is not a JPEG\n'.repeat(20)),
            name: 'photo.jpg',
            type: 'image/jpeg',
          },
          id: 'fake/jpg',
        }),
      415,
      5455,
      ['fake/jpg'],
    );
    expect(e.message).toMatch(/^ERROR 5455: Uploaded image must have image\/jpeg/);
  });

  it('truncated image (PNG header only) → 5455/415', async () => {
    await refused(
      () => upload(srv, { file: { data: PNG.subarray(0, 8), name: 'trunc.png', type: 'image/png' } }),
      415,
      5455,
    );
  });

  it('empty file → 5455/415', async () => {
    await refused(
      () =>
        upload(srv, {
          file: { data: Buffer.alloc(0), name: 'empty.png', type: 'image/png' },
          id: 'empty/file',
        }),
      415,
      5455,
      ['empty/file'],
    );
  });

  it("a PNG's bytes named x.txt with type text/plain is accepted (format from bytes)", async () => {
    const img = await uploadOk(srv, { file: { data: PNG, name: 'x.txt', type: 'text/plain' } });
    expect(img.filename).toBe('x.txt');
    const blob = await fetch(`${srv.apiBase}/accounts/${srv.accountId}/images/v1/${img.id}/blob`, {
      headers: { authorization: `Bearer ${srv.token}` },
    });
    expect(blob.status).toBe(200);
    expect(blob.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await blob.arrayBuffer()).equals(PNG)).toBe(true);
  });

  it('both file and url → 5400', async () => {
    const e = await refused(
      () =>
        upload(srv, {
          file: { data: PNG, name: 'a.png', type: 'image/png' },
          url: 'http://127.0.0.1:9/a.png',
          id: 'both/fileurl',
        }),
      400,
      5400,
      ['both/fileurl'],
    );
    expect(e.message).toMatch(/mutually exclusive/);
  });

  it('url to a loopback address → 5400 naming the refused range, nothing stored', async () => {
    // Loopback only: even with a broken guard this request cannot leave the machine.
    const e = await refused(() => upload(srv, { url: 'http://127.0.0.1:9/a.png', id: 'by/url' }), 400, 5400, [
      'by/url',
    ]);
    expect(e.message).toMatch(/loopback/);
  });

  it('metadata of 1025 bytes → 5400; exactly 1024 bytes is accepted', async () => {
    const over = metadataOfBytes(1025);
    const e = await refused(
      () =>
        upload(srv, {
          file: { data: PNG, name: 'm.png', type: 'image/png' },
          metadata: JSON.stringify(over),
          id: 'meta/over',
        }),
      400,
      5400,
      ['meta/over'],
    );
    expect(e.message).toMatch(/1024/);
    const exact = metadataOfBytes(1024);
    const img = await uploadOk(srv, {
      file: { data: PNG, name: 'm.png', type: 'image/png' },
      metadata: JSON.stringify(exact),
      id: 'meta/exact',
    });
    expect(img.meta).toEqual(exact);
  });

  it('metadata limit counts UTF-8 bytes, not characters (1025 bytes in 517 chars → 5400)', async () => {
    const base = Buffer.byteLength(JSON.stringify({ k: '' }));
    const obj = { k: 'x'.repeat(1025 - base - 2 * 508) + 'é'.repeat(508) };
    expect(Buffer.byteLength(JSON.stringify(obj))).toBe(1025);
    expect(JSON.stringify(obj).length).toBeLessThan(1024);
    await refused(
      () =>
        upload(srv, { file: { data: PNG, name: 'm.png', type: 'image/png' }, metadata: JSON.stringify(obj) }),
      400,
      5400,
    );
  });

  it('metadata[k] parts over 1024 bytes in total → 5400', async () => {
    const big = 'y'.repeat(600);
    await refused(
      () =>
        call(srv, 'POST', '', {
          body: form({ file: { data: PNG, name: 'm.png', type: 'image/png' } }, [
            ['metadata[a]', big],
            ['metadata[b]', big],
          ]),
        }),
      400,
      5400,
    );
  });

  it.each([['{bad json'], ['[1,2,3]'], ['[]'], ['null'], ['"a string"'], ['42'], ['true'], ['']])(
    'metadata %j → 5400',
    async (metadata) => {
      await refused(
        () =>
          upload(srv, { file: { data: PNG, name: 'm.png', type: 'image/png' }, metadata, id: 'meta/bad' }),
        400,
        5400,
        ['meta/bad'],
      );
    },
  );

  it('both a metadata JSON part and metadata[k] parts → 5400', async () => {
    await refused(
      () =>
        call(srv, 'POST', '', {
          body: form(
            { file: { data: PNG, name: 'm.png', type: 'image/png' }, metadata: '{"a":"1"}', id: 'meta/both' },
            [['metadata[b]', '2']],
          ),
        }),
      400,
      5400,
      ['meta/both'],
    );
    // Order of the parts does not matter.
    const f = new FormData();
    f.append('metadata[b]', '2');
    f.append('metadata', '{"a":"1"}');
    f.append('file', new Blob([bytes(PNG)], { type: 'image/png' }), 'm.png');
    await refused(() => call(srv, 'POST', '', { body: f }), 400, 5400);
  });

  it.each([
    ['2cdc28f0-017a-49c4-9ed7-87056c83901e'],
    ['2CDC28F0-017A-49C4-9ED7-87056C83901E'],
    ['107b9558-dd06-4bbd-5fef-9c2c16bb7900'],
  ])('custom id that is a UUID (%s) → 5400', async (id) => {
    await refused(
      () => upload(srv, { file: { data: PNG, name: 'u.png', type: 'image/png' }, id }),
      400,
      5400,
      [id],
    );
  });

  it('custom id of 1025 chars → 5400; 1024 chars is accepted', async () => {
    const over = 'a'.repeat(1025);
    await refused(
      () => upload(srv, { file: { data: PNG, name: 'l.png', type: 'image/png' }, id: over }),
      400,
      5400,
      [over],
    );
    const exact = 'b'.repeat(1024);
    const img = await uploadOk(srv, { file: { data: PNG, name: 'l.png', type: 'image/png' }, id: exact });
    expect(img.id).toBe(exact);
    expect((expectOk(await call(srv, 'GET', `/${exact}`)) as ImageJson).id).toBe(exact);
  });

  it.each([['/leading'], ['trailing/'], ['/both/'], ['/'], ['a//b'], ['']])(
    'custom id %j → 5400',
    async (id) => {
      const ids = id.replace(/^\/+|\/+$/g, '') === '' ? [] : [id.replace(/^\/+|\/+$/g, '')];
      await refused(
        () => upload(srv, { file: { data: PNG, name: 'c.png', type: 'image/png' }, id }),
        400,
        5400,
        ids,
      );
    },
  );

  it('custom id with requireSignedURLs=true → 5400', async () => {
    const e = await refused(
      () =>
        upload(srv, {
          file: { data: PNG, name: 'c.png', type: 'image/png' },
          id: 'private/custom',
          requireSignedURLs: 'true',
        }),
      400,
      5400,
      ['private/custom'],
    );
    expect(e.message).toMatch(/signed/i);
  });

  it.each([['maybe'], ['yes'], ['TRUE '], ['']])('requireSignedURLs=%j → 5400', async (value) => {
    await refused(
      () =>
        upload(srv, {
          file: { data: PNG, name: 'c.png', type: 'image/png' },
          requireSignedURLs: value,
          id: 'rsu/bad',
        }),
      400,
      5400,
      ['rsu/bad'],
    );
  });

  it.each([
    ['stats'],
    ['keys'],
    ['config'],
    ['variants'],
    ['keys/x'],
    ['variants/foo'],
    ['x/blob'],
    ['a/b/blob'],
  ])(
    'custom id %j that collides with an API route is either refused (5400, nothing stored) or reachable by GET and DELETE',
    async (id) => {
      const before = await snapshot(srv);
      const res = await upload(srv, { file: { data: PNG, name: 'r.png', type: 'image/png' }, id });
      if (res.status !== 200) {
        expectError(res, 400, 5400);
        expect(await snapshot(srv)).toEqual(before);
        return;
      }
      const got = await call(srv, 'GET', `/${encodeId(id)}`);
      expect(got.status, `GET ${id}: ${got.text.slice(0, 200)}`).toBe(200);
      expect((got.body.result as ImageJson).id).toBe(id);
      const del = await call(srv, 'DELETE', `/${encodeId(id)}`);
      expect(del.status, `DELETE ${id}: ${del.text.slice(0, 200)}`).toBe(200);
      expect(await snapshot(srv)).toEqual(before);
    },
  );

  it('duplicate custom id → 409/5409 with x-should-retry: false; the original is untouched', async () => {
    const id = 'dup/original.png';
    const original = await uploadOk(srv, {
      file: { data: PNG, name: 'first.png', type: 'image/png' },
      id,
      metadata: JSON.stringify({ who: 'first' }),
    });
    const before = await snapshot(srv);
    const res = await upload(srv, {
      file: { data: JPEG, name: 'second.jpg', type: 'image/jpeg' },
      id,
      metadata: JSON.stringify({ who: 'second' }),
    });
    const e = expectError(res, 409, 5409);
    expect(e.message).toBe('ERROR 5409: Resource already exists');
    expect(res.headers.get('x-should-retry')).toBe('false');
    const after = await snapshot(srv);
    expect(after).toEqual(before);
    const img = expectOk(await call(srv, 'GET', `/${encodeId(id)}`)) as ImageJson;
    expect(img.filename).toBe('first.png');
    expect(img.meta).toEqual({ who: 'first' });
    expect(img).toEqual(original);
    const blob = await fetch(`${srv.apiBase}/accounts/${srv.accountId}/images/v1/${encodeId(id)}/blob`, {
      headers: { authorization: `Bearer ${srv.token}` },
    });
    expect(blob.status).toBe(200);
    expect(blob.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await blob.arrayBuffer()).equals(PNG)).toBe(true);
  });

  it('an invalid file is refused before the duplicate check would leave anything behind', async () => {
    const id = 'dup/second';
    await uploadOk(srv, { file: { data: PNG, name: 'first.png', type: 'image/png' }, id });
    const before = await snapshot(srv);
    // Duplicate id with an empty file: either error is acceptable, nothing may be written.
    const res = await upload(srv, { file: { data: Buffer.alloc(0), name: 'e.png', type: 'image/png' }, id });
    expect([409, 415]).toContain(res.status);
    expect(res.body.success).toBe(false);
    expect(await snapshot(srv)).toEqual(before);
  });
});

describe('upload size limit from PICTOR_MAX_UPLOAD_BYTES', () => {
  let srv: Srv;
  let limit: number;

  beforeAll(async () => {
    limit = PNG.length;
    srv = await start({ PICTOR_MAX_UPLOAD_BYTES: String(limit) });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('a file one byte over the configured limit → 5413/413, nothing stored', async () => {
    const before = await snapshot(srv);
    const over = Buffer.concat([PNG, Buffer.from([0])]);
    expect(over.length).toBe(limit + 1);
    expectError(
      await upload(srv, { file: { data: over, name: 'o.png', type: 'image/png' }, id: 'small/over' }),
      413,
      5413,
    );
    await expectNothingStored(srv, before, ['small/over']);
  });

  it('a file far over the configured limit (and over 10 MB) → 5413/413', async () => {
    const before = await snapshot(srv);
    expectError(
      await upload(srv, { file: { data: randomBytes(11 * 1024 * 1024), name: 'o.png', type: 'image/png' } }),
      413,
      5413,
    );
    await expectNothingStored(srv, before);
  });

  it('a file of exactly the configured limit is accepted', async () => {
    await uploadOk(srv, { file: { data: PNG, name: 'exact.png', type: 'image/png' } });
  });
});

describe('image allowance (quota)', () => {
  let srv: Srv;

  beforeAll(async () => {
    srv = await start({ PICTOR_IMAGE_ALLOWANCE: '2' });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('third upload with PICTOR_IMAGE_ALLOWANCE=2 → 5453/403; stats stay at 2, no new blob', async () => {
    await uploadOk(srv, { file: { data: PNG, name: '1.png', type: 'image/png' } });
    await uploadOk(srv, { file: { data: PNG, name: '2.png', type: 'image/png' }, id: 'quota/two' });
    const before = await snapshot(srv);
    expect(before.count).toBe(2);
    const e = expectError(
      await upload(srv, { file: { data: PNG, name: '3.png', type: 'image/png' }, id: 'quota/three' }),
      403,
      5453,
    );
    expect(e.message).toBe('ERROR 5453: The given account has reached a service limit.');
    expectError(await upload(srv, { file: { data: JPEG, name: '4.jpg', type: 'image/jpeg' } }), 403, 5453);
    await expectNothingStored(srv, before, ['quota/three']);
    const stats = expectOk(await call(srv, 'GET', '/stats')) as {
      count: { current: number; allowed: number };
    };
    expect(stats.count).toEqual({ current: 2, allowed: 2 });
  });

  it('deleting one frees a slot', async () => {
    expectOk(await call(srv, 'DELETE', '/quota/two'));
    await uploadOk(srv, { file: { data: PNG, name: '3.png', type: 'image/png' }, id: 'quota/three' });
    expectError(await upload(srv, { file: { data: PNG, name: '5.png', type: 'image/png' } }), 403, 5453);
  });
});

// ---------------------------------------------------------------------------------------------------
// Image details / edit / delete / blob
// ---------------------------------------------------------------------------------------------------

describe('image operations', () => {
  let srv: Srv;
  let auto: ImageJson;
  let custom: ImageJson;

  beforeAll(async () => {
    srv = await start();
    auto = await uploadOk(srv, {
      file: { data: PNG, name: 'auto.png', type: 'image/png' },
      metadata: JSON.stringify({ a: 1 }),
    });
    custom = await uploadOk(srv, {
      file: { data: PNG, name: 'custom.png', type: 'image/png' },
      id: 'folder/custom.png',
      metadata: JSON.stringify({ c: 1 }),
    });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it.each([
    ['2cdc28f0-017a-49c4-9ed7-87056c83901e'],
    ['no-such-image'],
    ['a/b/c'],
    ['folder/custom.png.missing'],
  ])('GET/PATCH/DELETE/blob of unknown id %j → 5404/404', async (id) => {
    const before = await snapshot(srv);
    const path = `/${encodeId(id)}`;
    const e = expectError(await call(srv, 'GET', path), 404, 5404);
    expect(e.message).toMatch(/^ERROR 5404: Image not found/);
    expectError(await call(srv, 'GET', `${path}/blob`), 404, 5404);
    expectError(await call(srv, 'PATCH', path, { json: { metadata: { x: 1 } } }), 404, 5404);
    expectError(await call(srv, 'DELETE', path), 404, 5404);
    await expectNothingStored(srv, before, [id]);
  });

  it('PATCH requireSignedURLs: true on a custom-id image → 5400, image unchanged', async () => {
    const path = `/${encodeId(custom.id)}`;
    expectError(await call(srv, 'PATCH', path, { json: { requireSignedURLs: true } }), 400, 5400);
    const img = expectOk(await call(srv, 'GET', path)) as ImageJson;
    expect(img.requireSignedURLs).toBe(false);
    expect(img).toEqual(custom);
  });

  it('PATCH metadata over 1024 bytes → 5400, meta unchanged (auto and custom id)', async () => {
    for (const image of [auto, custom]) {
      const path = `/${encodeId(image.id)}`;
      expectError(await call(srv, 'PATCH', path, { json: { metadata: metadataOfBytes(1025) } }), 400, 5400);
      expect((expectOk(await call(srv, 'GET', path)) as ImageJson).meta).toEqual(image.meta);
    }
    // 1024 bytes is fine.
    const exact = metadataOfBytes(1024);
    const patched = expectOk(
      await call(srv, 'PATCH', `/${auto.id}`, { json: { metadata: exact } }),
    ) as ImageJson;
    expect(patched.meta).toEqual(exact);
    expectOk(await call(srv, 'PATCH', `/${auto.id}`, { json: { metadata: { a: 1 } } }));
  });

  it.each([['{bad json'], ['{"metadata":'], ['not json at all']])(
    'PATCH with invalid JSON body %j → 5400',
    async (body) => {
      const e = expectError(
        await call(srv, 'PATCH', `/${auto.id}`, { headers: { 'content-type': 'application/json' }, body }),
        400,
        5400,
      );
      expect(e.message).toMatch(/^ERROR 5400: /);
      expect((expectOk(await call(srv, 'GET', `/${auto.id}`)) as ImageJson).meta).toEqual({ a: 1 });
    },
  );

  it.each([[[1, 2]], ['a string'], [42], [null]])(
    'PATCH with a JSON body that is not an object (%j) → 5400',
    async (json) => {
      expectError(await call(srv, 'PATCH', `/${auto.id}`, { json }), 400, 5400);
    },
  );

  it.each([['yes'], ['true'], [1], [null]])(
    'PATCH requireSignedURLs: %j → 5400, unchanged',
    async (value) => {
      expectError(await call(srv, 'PATCH', `/${auto.id}`, { json: { requireSignedURLs: value } }), 400, 5400);
      expect((expectOk(await call(srv, 'GET', `/${auto.id}`)) as ImageJson).requireSignedURLs).toBe(false);
    },
  );

  it.each([[[1]], ['str'], [42]])(
    'PATCH metadata that is not an object (%j) → 5400, unchanged',
    async (metadata) => {
      expectError(await call(srv, 'PATCH', `/${auto.id}`, { json: { metadata } }), 400, 5400);
      expect((expectOk(await call(srv, 'GET', `/${auto.id}`)) as ImageJson).meta).toEqual({ a: 1 });
    },
  );

  it('a deleted image answers 5404 everywhere, and its blob is gone', async () => {
    const img = await uploadOk(srv, { file: { data: PNG, name: 'gone.png', type: 'image/png' } });
    const before = await srv.stored();
    expectOk(await call(srv, 'DELETE', `/${img.id}`));
    expect(await srv.stored()).toEqual({ blobs: before.blobs - 1, rows: before.rows - 1 });
    expectError(await call(srv, 'GET', `/${img.id}`), 404, 5404);
    expectError(await call(srv, 'GET', `/${img.id}/blob`), 404, 5404);
    expectError(await call(srv, 'DELETE', `/${img.id}`), 404, 5404);
    expectError(await call(srv, 'PATCH', `/${img.id}`, { json: { metadata: {} } }), 404, 5404);
  });
});

// ---------------------------------------------------------------------------------------------------
// Variants
// ---------------------------------------------------------------------------------------------------

type VariantsMap = {
  variants: Record<string, { id: string; options: Record<string, unknown>; neverRequireSignedURLs: boolean }>;
};

describe('variant validation', () => {
  let srv: Srv;

  beforeAll(async () => {
    srv = await start();
    expectOk(
      await call(srv, 'POST', '/variants', {
        json: { id: 'thumb', options: { fit: 'cover', width: 100, height: 100, metadata: 'none' } },
      }),
    );
  });
  afterAll(async () => {
    await srv?.close();
  });

  async function variants(): Promise<VariantsMap['variants']> {
    return (expectOk(await call(srv, 'GET', '/variants')) as VariantsMap).variants;
  }

  async function refusedCreate(body: unknown, status = 400, code = 5400): Promise<ErrorEntry> {
    const before = await variants();
    const e = expectError(await call(srv, 'POST', '/variants', { json: body }), status, code);
    expect(await variants()).toEqual(before);
    return e;
  }

  it.each([['a-b'], ['a'.repeat(100)], [''], ['a b'], ['a_b'], ['w=100'], ['a,b'], ['a/b']])(
    'variant id %j → 5400',
    async (id) => {
      await refusedCreate({ id, options: { fit: 'scale-down', width: 10, height: 10, metadata: 'none' } });
    },
  );

  it.each([[undefined], [null], [42], [['a']]])('variant id of wrong type (%j) → 5400', async (id) => {
    await refusedCreate({ id, options: { width: 10 } });
  });

  it('variant id of 99 chars is accepted', async () => {
    const id = 'a'.repeat(99);
    expectOk(await call(srv, 'POST', '/variants', { json: { id, options: { width: 10 } } }));
    expectOk(await call(srv, 'DELETE', `/variants/${id}`));
  });

  it.each([
    [{ fit: 'stretch', width: 10, height: 10, metadata: 'none' }],
    [{ fit: 'squeeze', width: 10 }],
    [{ metadata: 'all', width: 10 }],
    [{ width: 0 }],
    [{ width: -1 }],
    [{ width: 1.5 }],
    [{ width: '100' }],
    [{ height: 0 }],
    [{ height: '100' }],
    [{ width: 12001 }],
    [{ width: 10, blur: 5 }],
    [{ width: 10, browser_ttl: 10 }],
    [[]],
    ['scale-down'],
    [null],
  ])('options %j → 5400', async (options) => {
    await refusedCreate({ id: 'badopts', options });
  });

  it('missing options → 5400', async () => {
    await refusedCreate({ id: 'noopts' });
    await refusedCreate({ id: 'noopts', neverRequireSignedURLs: true });
  });

  it('neverRequireSignedURLs that is not a boolean → 5400', async () => {
    await refusedCreate({ id: 'nrsu', options: { width: 10 }, neverRequireSignedURLs: 'true' });
  });

  it('invalid JSON body → 5400', async () => {
    const before = await variants();
    expectError(
      await call(srv, 'POST', '/variants', {
        headers: { 'content-type': 'application/json' },
        body: '{"id":',
      }),
      400,
      5400,
    );
    expect(await variants()).toEqual(before);
  });

  it('duplicate id → 409/5409 with x-should-retry: false, original unchanged', async () => {
    const before = await variants();
    const res = await call(srv, 'POST', '/variants', {
      json: { id: 'thumb', options: { fit: 'pad', width: 5, height: 5, metadata: 'keep' } },
    });
    expectError(res, 409, 5409);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(await variants()).toEqual(before);
    expect(before.thumb?.options).toMatchObject({ fit: 'cover', width: 100, height: 100 });
    // `public` too.
    expectError(
      await call(srv, 'POST', '/variants', { json: { id: 'public', options: { width: 5 } } }),
      409,
      5409,
    );
  });

  it.each([['nosuch'], ['a-b'], ['x'.repeat(100)]])(
    'GET/PATCH/DELETE of unknown variant %j → 5401/404',
    async (id) => {
      const before = await variants();
      const e = expectError(await call(srv, 'GET', `/variants/${id}`), 404, 5401);
      expect(e.message).toMatch(/^ERROR 5401: /);
      expectError(
        await call(srv, 'PATCH', `/variants/${id}`, { json: { options: { width: 10 } } }),
        404,
        5401,
      );
      expectError(await call(srv, 'DELETE', `/variants/${id}`), 404, 5401);
      expect(await variants()).toEqual(before);
    },
  );

  it('PATCH an existing variant with invalid options → 5400, unchanged', async () => {
    const before = await variants();
    expectError(
      await call(srv, 'PATCH', '/variants/thumb', { json: { options: { fit: 'stretch' } } }),
      400,
      5400,
    );
    expectError(await call(srv, 'PATCH', '/variants/thumb', { json: { options: { width: 0 } } }), 400, 5400);
    expectError(await call(srv, 'PATCH', '/variants/thumb', { json: {} }), 400, 5400);
    expectError(
      await call(srv, 'PATCH', '/variants/thumb', {
        json: { options: { width: 10 }, neverRequireSignedURLs: 'no' },
      }),
      400,
      5400,
    );
    expect(await variants()).toEqual(before);
  });

  it('DELETE public → 5400 and public still exists', async () => {
    const e = expectError(await call(srv, 'DELETE', '/variants/public'), 400, 5400);
    expect(e.message).toMatch(/public/);
    const pub = expectOk(await call(srv, 'GET', '/variants/public')) as { variant: { id: string } };
    expect(pub.variant.id).toBe('public');
    expect(Object.keys(await variants())).toContain('public');
  });
});

describe('variant count limit (PICTOR_MAX_VARIANTS default 100)', () => {
  let srv: Srv;

  beforeAll(async () => {
    srv = await start();
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('99 variants after public are accepted, the 101st → 5400, list has 100', async () => {
    for (let i = 1; i <= 99; i++) {
      expectOk(await call(srv, 'POST', '/variants', { json: { id: `v${i}`, options: { width: i } } }));
    }
    const e = expectError(
      await call(srv, 'POST', '/variants', { json: { id: 'v100', options: { width: 100 } } }),
      400,
      5400,
    );
    expect(e.message).toMatch(/100/);
    const list = (expectOk(await call(srv, 'GET', '/variants')) as VariantsMap).variants;
    expect(Object.keys(list)).toHaveLength(100);
    expect(list.public).toBeDefined();
    expect(list.v100).toBeUndefined();
    expectError(await call(srv, 'GET', '/variants/v100'), 404, 5401);
    // A duplicate at the limit still reports the duplicate, or the limit; never succeeds.
    const dup = await call(srv, 'POST', '/variants', { json: { id: 'v1', options: { width: 1 } } });
    expect([400, 409]).toContain(dup.status);
    expect(dup.body.success).toBe(false);
    // Deleting one frees a slot.
    expectOk(await call(srv, 'DELETE', '/variants/v99'));
    expectOk(await call(srv, 'POST', '/variants', { json: { id: 'v100', options: { width: 100 } } }));
    expectError(
      await call(srv, 'POST', '/variants', { json: { id: 'v101', options: { width: 101 } } }),
      400,
      5400,
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Signing keys
// ---------------------------------------------------------------------------------------------------

describe('signing keys', () => {
  let srv: Srv;

  beforeAll(async () => {
    srv = await start();
  });
  afterAll(async () => {
    await srv?.close();
  });

  async function keys(): Promise<Array<{ name: string; value: string }>> {
    return (expectOk(await call(srv, 'GET', '/keys')) as { keys: Array<{ name: string; value: string }> })
      .keys;
  }

  it.each([['a'.repeat(21)], ['a-b'], ['a_b'], ['a.b'], ['a%20b'], ['%C3%A9']])(
    'PUT key name %j → 5400, keys unchanged',
    async (name) => {
      const before = await keys();
      expectError(await call(srv, 'PUT', `/keys/${name}`), 400, 5400);
      expect(await keys()).toEqual(before);
    },
  );

  it('PUT key name of 20 chars is accepted', async () => {
    const name = 'k'.repeat(20);
    const result = expectOk(await call(srv, 'PUT', `/keys/${name}`)) as { keys: Array<{ name: string }> };
    expect(result.keys.map((k) => k.name)).toContain(name);
  });

  it('DELETE unknown key → 404 (5400 "Signing key not found"), keys unchanged', async () => {
    const before = await keys();
    const e = expectError(await call(srv, 'DELETE', '/keys/nosuchkey'), 404, 5400);
    expect(e.message).toMatch(/not found/i);
    expect(await keys()).toEqual(before);
  });

  it('DELETE with an invalid key name → 5400/400, keys unchanged', async () => {
    const before = await keys();
    expectError(await call(srv, 'DELETE', `/keys/${'a'.repeat(21)}`), 400, 5400);
    expectError(await call(srv, 'DELETE', '/keys/a-b'), 400, 5400);
    expect(await keys()).toEqual(before);
  });
});
