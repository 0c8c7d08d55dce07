/**
 * End-to-end: the batch API (digest §2.13; docs/compat.md "Batch API") against a real Pictor server.
 *
 * `GET /client/v4/accounts/{id}/images/v1/batch_token` issues `{token, expiresAt}` (one hour); with
 * `Authorization: Bearer <batch token>` the image operations answer at the root of the server
 * (`<url>/images/v1`, `<url>/images/v2`, `<url>/images/v2/direct_upload`) with the same bodies as
 * the account API. Batch tokens work only there, and only batch tokens work there; expired ones are
 * refused; variants, keys, stats and config are out of reach.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_TOKEN_TTL_MS } from '../../src/services/accounts.js';
import {
  type CallOpts,
  type Envelope,
  expectError,
  expectOk,
  type ImageJson,
  type Res,
  request,
} from '../helpers/api.js';
import { makeImage } from '../helpers/images.js';
import { issueReadToken, startServer, TEST_ACCOUNT_ID, type TestServer } from '../helpers/server.js';

// ---------------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------------

const HOUR = 3600_000;
const AUTH_EMAIL = 'owner@example.com';
const AUTH_KEY = 'global-key-0123456789abcdef';

interface Srv extends TestServer {
  accountHash: string;
  readToken: string;
  /** A batch token issued two hours ago (expired one hour ago). */
  expiredBatchToken: string;
  /** A second account and a valid batch token for it. */
  otherAccountId: string;
  otherBatchToken: string;
}

/** A test server seeded first (with a clock that can be moved) through the composition root. */
async function start(): Promise<Srv> {
  const seeded = {
    accountHash: '',
    readToken: '',
    expiredBatchToken: '',
    otherAccountId: '',
    otherBatchToken: '',
  };
  const server = await startServer({
    env: { PICTOR_AUTH_EMAIL: AUTH_EMAIL, PICTOR_AUTH_KEY: AUTH_KEY },
    name: 'pictor-batch',
    seed: async (c, clock) => {
      seeded.accountHash = (await c.api.accounts.get(TEST_ACCOUNT_ID))!.hash;
      seeded.readToken = await issueReadToken(c);
      clock.t = Date.now() - 2 * HOUR;
      const expired = await c.api.accounts.issueBatchToken(TEST_ACCOUNT_ID);
      expect(expired.expiresAt).toBeLessThan(Date.now() - HOUR + 60_000);
      seeded.expiredBatchToken = expired.token;
      clock.t = Date.now();
      const other = await c.api.accounts.create();
      seeded.otherAccountId = other.id;
      seeded.otherBatchToken = (await c.api.accounts.issueBatchToken(other.id)).token;
    },
  });
  return Object.assign(server, seeded);
}

/** The batch host: `path` at the root of the server (e.g. '/images/v1'). */
function batch<T = unknown>(srv: Srv, method: string, path: string, opts: CallOpts = {}): Promise<Res<T>> {
  return request<T>(`${srv.url}${path}`, method, opts);
}

/** The account API: `path` under `/client/v4/accounts/{id}`; the write token unless told otherwise. */
function account<T = unknown>(srv: Srv, method: string, path: string, opts: CallOpts = {}): Promise<Res<T>> {
  return request<T>(`${srv.apiBase}/accounts/${srv.accountId}${path}`, method, {
    ...opts,
    token: opts.token === undefined ? srv.token : opts.token,
  });
}

function fileForm(
  data: Buffer,
  fields: Record<string, string> = {},
  filename = 'photo.png',
  type = 'image/png',
): FormData {
  const fd = new FormData();
  fd.append('file', new Blob([new Uint8Array(data)], { type }), filename);
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  return fd;
}

async function issueBatchToken(srv: Srv, token = srv.token): Promise<{ token: string; expiresAt: string }> {
  return expectOk(
    await account<{ token: string; expiresAt: string }>(srv, 'GET', '/images/v1/batch_token', { token }),
  );
}

/** The batch operations of digest §2.13, as [method, path, body] triples (the image may not exist). */
function batchOps(id: string): Array<{ name: string; method: string; path: string; opts: CallOpts }> {
  return [
    { name: 'upload', method: 'POST', path: '/images/v1', opts: {} },
    { name: 'details', method: 'GET', path: `/images/v1/${encodeURIComponent(id)}`, opts: {} },
    {
      name: 'edit',
      method: 'PATCH',
      path: `/images/v1/${encodeURIComponent(id)}`,
      opts: { json: { metadata: { hacked: true } } },
    },
    { name: 'delete', method: 'DELETE', path: `/images/v1/${encodeURIComponent(id)}`, opts: {} },
    { name: 'list v2', method: 'GET', path: '/images/v2', opts: {} },
    { name: 'direct upload', method: 'POST', path: '/images/v2/direct_upload', opts: { json: {} } },
  ];
}

// ---------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------

let srv: Srv;
let png: Buffer;
let jpeg: Buffer;
/** A valid batch token for the test account, issued over HTTP. */
let batchToken: string;
/** An image uploaded through the account API, which every refusal below must leave untouched. */
const GUARD_ID = 'guard/untouched.png';
let guard: ImageJson;

beforeAll(async () => {
  png = await makeImage('png', 64, 48);
  jpeg = await makeImage('jpeg', 80, 60);
  srv = await start();
  batchToken = (await issueBatchToken(srv)).token;
  guard = expectOk(
    await account<ImageJson>(srv, 'POST', '/images/v1', {
      body: fileForm(png, { id: GUARD_ID, metadata: '{"guard":1}' }),
    }),
  );
});

afterAll(async () => {
  await srv?.close();
});

/** The guard image is still there, unchanged. */
async function expectGuardIntact(): Promise<void> {
  expect(
    expectOk(await account<ImageJson>(srv, 'GET', `/images/v1/${encodeURIComponent(GUARD_ID)}`)),
  ).toEqual(guard);
}

describe('GET /images/v1/batch_token', () => {
  it('with a write token: {token, expiresAt} with expiresAt ≈ now + 1 hour', async () => {
    const before = Date.now();
    const res = await account<{ token: string; expiresAt: string }>(srv, 'GET', '/images/v1/batch_token');
    const result = expectOk(res);
    const after = Date.now();
    expect(Object.keys(result).sort()).toEqual(['expiresAt', 'token']);
    expect(result.token).toMatch(/^[A-Za-z0-9_-]{20,400}$/);
    expect(result.expiresAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    const exp = Date.parse(result.expiresAt);
    expect(BATCH_TOKEN_TTL_MS).toBe(HOUR);
    expect(exp).toBeGreaterThanOrEqual(before + HOUR - 1000);
    expect(exp).toBeLessThanOrEqual(after + HOUR + 1000);
  });

  it('every call issues a fresh token; all of them work', async () => {
    const a = await issueBatchToken(srv);
    const b = await issueBatchToken(srv);
    expect(a.token).not.toBe(b.token);
    expect(a.token).not.toBe(srv.token);
    expectOk(await batch(srv, 'GET', '/images/v2', { token: a.token }));
    expectOk(await batch(srv, 'GET', '/images/v2', { token: b.token }));
  });

  it('with the global key (X-Auth-Email / X-Auth-Key) too', async () => {
    const res = await account<{ token: string }>(srv, 'GET', '/images/v1/batch_token', {
      token: null,
      headers: { 'x-auth-email': AUTH_EMAIL, 'x-auth-key': AUTH_KEY },
    });
    expectOk(await batch(srv, 'GET', '/images/v2', { token: expectOk(res).token }));
  });

  it('no credentials → 400 9106; unknown token → 403 9109', async () => {
    expectError(await account(srv, 'GET', '/images/v1/batch_token', { token: null }), 400, 9106);
    expectError(
      await account(srv, 'GET', '/images/v1/batch_token', { token: 'unknown-token-000000000000000' }),
      403,
      9109,
    );
  });

  it('a batch token cannot issue batch tokens (→ 403 9109)', async () => {
    expectError(await account(srv, 'GET', '/images/v1/batch_token', { token: batchToken }), 403, 9109);
  });

  it('a read-only API token cannot obtain write access through a batch token', async () => {
    // Images Read may read (compat "Permissions"); a batch token can upload, edit and delete. Either
    // the token endpoint refuses a read-only token, or the token it hands out cannot write.
    // (Its own target image, so a failure here does not spill into the guard checks of other tests.)
    const target = 'escalation/target.png';
    const original = expectOk(
      await account<ImageJson>(srv, 'POST', '/images/v1', {
        body: fileForm(png, { id: target, metadata: '{"owner":"writer"}' }),
      }),
    );
    const issued = await account<{ token: string }>(srv, 'GET', '/images/v1/batch_token', {
      token: srv.readToken,
    });
    const writeAttempts: Array<{ op: string; status: number }> = [];
    if (issued.status === 200) {
      const t = issued.body.result.token;
      const up = await batch(srv, 'POST', '/images/v1', {
        token: t,
        body: fileForm(png, { id: 'escalation/by-read-token' }),
      });
      writeAttempts.push({ op: 'upload', status: up.status });
      const edit = await batch(srv, 'PATCH', `/images/v1/${encodeURIComponent(target)}`, {
        token: t,
        json: { metadata: { escalated: true } },
      });
      writeAttempts.push({ op: 'edit', status: edit.status });
      const del = await batch(srv, 'DELETE', `/images/v1/${encodeURIComponent(target)}`, { token: t });
      writeAttempts.push({ op: 'delete', status: del.status });
    } else {
      expectError(issued, 403, 10000);
    }
    // The read-only token itself is refused the same writes on the account API.
    expectError(
      await account(srv, 'PATCH', `/images/v1/${encodeURIComponent(target)}`, {
        token: srv.readToken,
        json: { metadata: {} },
      }),
      403,
      10000,
    );
    expect(
      writeAttempts.filter((a) => a.status === 200),
      'write operations that succeeded with a token minted by a read-only token',
    ).toEqual([]);
    expect(
      expectOk(await account<ImageJson>(srv, 'GET', `/images/v1/${encodeURIComponent(target)}`)),
    ).toEqual(original);
  });
});

describe('the batch host at the root of the server', () => {
  it('POST /images/v1 → GET → PATCH → GET /images/v2 → blob → DELETE, same bodies as the account API', async () => {
    const id = 'batch/folder/one.png';
    // Upload (multipart, metadata as JSON part, creator).
    const up = await batch<ImageJson>(srv, 'POST', '/images/v1', {
      token: batchToken,
      body: fileForm(
        png,
        { id, metadata: JSON.stringify({ via: 'batch', n: 1 }), creator: 'batch-user' },
        'batched.png',
      ),
    });
    const img = expectOk(up);
    expect(img).toMatchObject({
      id,
      filename: 'batched.png',
      creator: 'batch-user',
      requireSignedURLs: false,
      meta: { via: 'batch', n: 1 },
    });
    expect('draft' in img).toBe(false);
    expect(img.variants).toContain(
      `${srv.url}/cdn-cgi/imagedelivery/${srv.accountHash}/batch/folder/one.png/public`,
    );

    // Same Image object from the account API and from the batch host.
    const viaAccount = expectOk(await account<ImageJson>(srv, 'GET', `/images/v1/${encodeURIComponent(id)}`));
    expect(viaAccount).toEqual(img);
    const viaBatch = expectOk(
      await batch<ImageJson>(srv, 'GET', `/images/v1/${encodeURIComponent(id)}`, { token: batchToken }),
    );
    expect(viaBatch).toEqual(img);

    // PATCH replaces metadata.
    const patched = expectOk(
      await batch<ImageJson>(srv, 'PATCH', `/images/v1/${encodeURIComponent(id)}`, {
        token: batchToken,
        json: { metadata: { replaced: 'yes' }, creator: 'someone-else' },
      }),
    );
    expect(patched.meta).toEqual({ replaced: 'yes' });
    expect(patched.creator).toBe('someone-else');
    expect(
      expectOk(await account<ImageJson>(srv, 'GET', `/images/v1/${encodeURIComponent(id)}`)).meta,
    ).toEqual({ replaced: 'yes' });

    // List v2 (with a metadata filter) and v1.
    const v2 = expectOk(
      await batch<{ images: ImageJson[]; continuation_token: string | null }>(
        srv,
        'GET',
        '/images/v2?meta.replaced[eq]=yes',
        { token: batchToken },
      ),
    );
    expect(v2.images.map((i) => i.id)).toEqual([id]);
    expect(v2.continuation_token).toBeNull();
    const v2all = expectOk(
      await batch<{ images: ImageJson[] }>(srv, 'GET', '/images/v2', { token: batchToken }),
    );
    expect(v2all.images.map((i) => i.id)).toEqual(expect.arrayContaining([id, GUARD_ID]));
    const v2acct = expectOk(await account<{ images: ImageJson[] }>(srv, 'GET', '/images/v2'));
    expect(v2all).toEqual(v2acct);
    const v1 = expectOk(
      await batch<{ images: ImageJson[] }>(srv, 'GET', '/images/v1', { token: batchToken }),
    );
    expect(v1.images.map((i) => i.id)).toContain(id);

    // The original bytes.
    const blob = await batch(srv, 'GET', `/images/v1/${encodeURIComponent(id)}/blob`, { token: batchToken });
    expect(blob.status).toBe(200);
    expect(blob.bytes.equals(png)).toBe(true);

    // DELETE.
    const del = await batch<Record<string, never>>(srv, 'DELETE', `/images/v1/${encodeURIComponent(id)}`, {
      token: batchToken,
    });
    expect(expectOk(del)).toEqual({});
    expectError(
      await batch(srv, 'GET', `/images/v1/${encodeURIComponent(id)}`, { token: batchToken }),
      404,
      5404,
    );
    expectError(await account(srv, 'GET', `/images/v1/${encodeURIComponent(id)}`), 404, 5404);
  });

  it('upload with metadata[k] parts and an auto id', async () => {
    const fd = fileForm(jpeg, {}, 'auto.jpg', 'image/jpeg');
    fd.append('metadata[kind]', 'auto');
    const img = expectOk(await batch<ImageJson>(srv, 'POST', '/images/v1', { token: batchToken, body: fd }));
    expect(img.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(img.meta).toEqual({ kind: 'auto' });
    expect(expectOk(await account<ImageJson>(srv, 'GET', `/images/v1/${img.id}`))).toEqual(img);
  });

  it('same errors as the account API: duplicate id 409 5409, non-multipart 415 5415, unknown id 404 5404', async () => {
    const dup = await batch(srv, 'POST', '/images/v1', {
      token: batchToken,
      body: fileForm(png, { id: GUARD_ID }),
    });
    expectError(dup, 409, 5409);
    expect(dup.headers.get('x-should-retry')).toBe('false');
    expectError(
      await batch(srv, 'POST', '/images/v1', {
        token: batchToken,
        body: new Uint8Array(png),
        headers: { 'content-type': 'image/png' },
      }),
      415,
      5415,
    );
    expectError(await batch(srv, 'GET', '/images/v1/no-such-image', { token: batchToken }), 404, 5404);
    expectError(
      await batch(srv, 'PATCH', '/images/v1/no-such-image', { token: batchToken, json: { metadata: {} } }),
      404,
      5404,
    );
    expectError(await batch(srv, 'DELETE', '/images/v1/no-such-image', { token: batchToken }), 404, 5404);
    await expectGuardIntact();
  });

  it('POST /images/v2/direct_upload: a draft whose upload URL completes it', async () => {
    const res = await batch<{ id: string; uploadURL: string }>(srv, 'POST', '/images/v2/direct_upload', {
      token: batchToken,
      json: {
        id: 'batch/direct/one',
        metadata: { from: 'batch' },
        creator: 'dcu',
        expiry: new Date(Date.now() + 2 * HOUR).toISOString(),
      },
    });
    const made = expectOk(res);
    expect(res.body.result_info).toBeNull();
    expect(made).toEqual({
      id: 'batch/direct/one',
      uploadURL: `${srv.url}/upload/${srv.accountHash}/batch/direct/one`,
    });

    const draft = expectOk(
      await batch<ImageJson>(srv, 'GET', `/images/v1/${encodeURIComponent(made.id)}`, { token: batchToken }),
    );
    expect(draft).toMatchObject({
      id: made.id,
      draft: true,
      filename: null,
      meta: { from: 'batch' },
      creator: 'dcu',
    });
    const listed = expectOk(
      await batch<{ images: ImageJson[] }>(srv, 'GET', '/images/v2', { token: batchToken }),
    );
    expect(listed.images.map((i) => i.id)).not.toContain(made.id);

    const up = await fetch(made.uploadURL, { method: 'POST', body: fileForm(png, {}, 'dcu.png') });
    const upBody = (await up.json()) as Envelope<ImageJson>;
    expect(up.status).toBe(200);
    expect(upBody.success).toBe(true);
    expect(upBody.result.id).toBe(made.id);
    expect('draft' in upBody.result).toBe(false);
    const done = expectOk(await account<ImageJson>(srv, 'GET', `/images/v1/${encodeURIComponent(made.id)}`));
    expect(done).toEqual(upBody.result);

    // Multipart and empty bodies as on the account API.
    const fd = new FormData();
    fd.append('metadata[m]', '1');
    const mp = expectOk(
      await batch<{ id: string }>(srv, 'POST', '/images/v2/direct_upload', { token: batchToken, body: fd }),
    );
    expect(
      expectOk(await batch<ImageJson>(srv, 'GET', `/images/v1/${mp.id}`, { token: batchToken })).meta,
    ).toEqual({ m: '1' });
    expectOk(await batch(srv, 'POST', '/images/v2/direct_upload', { token: batchToken }));
    // Validation as on the account API.
    expectError(
      await batch(srv, 'POST', '/images/v2/direct_upload', {
        token: batchToken,
        json: { expiry: new Date(Date.now() + 7 * HOUR).toISOString() },
      }),
      400,
      5400,
    );
    expectError(
      await batch(srv, 'POST', '/images/v2/direct_upload', {
        token: batchToken,
        json: { id: 'batch/private', requireSignedURLs: true },
      }),
      400,
      5400,
    );
  });

  it('a batch token only reaches its own account', async () => {
    expectError(
      await batch(srv, 'GET', `/images/v1/${encodeURIComponent(GUARD_ID)}`, { token: srv.otherBatchToken }),
      404,
      5404,
    );
    expectError(
      await batch(srv, 'DELETE', `/images/v1/${encodeURIComponent(GUARD_ID)}`, {
        token: srv.otherBatchToken,
      }),
      404,
      5404,
    );
    expectError(
      await batch(srv, 'PATCH', `/images/v1/${encodeURIComponent(GUARD_ID)}`, {
        token: srv.otherBatchToken,
        json: { metadata: {} },
      }),
      404,
      5404,
    );
    const list = expectOk(
      await batch<{ images: ImageJson[] }>(srv, 'GET', '/images/v2', { token: srv.otherBatchToken }),
    );
    expect(list.images).toEqual([]);
    // An upload with the other account's token lands in the other account.
    const img = expectOk(
      await batch<ImageJson>(srv, 'POST', '/images/v1', {
        token: srv.otherBatchToken,
        body: fileForm(png, { id: 'other/pic' }),
      }),
    );
    expect(img.id).toBe('other/pic');
    expectError(await account(srv, 'GET', '/images/v1/other%2Fpic'), 404, 5404);
    await expectGuardIntact();
  });
});

describe('token separation', () => {
  it('a normal API token on the batch paths → 403 9109', async () => {
    for (const op of batchOps(GUARD_ID)) {
      const opts = {
        ...op.opts,
        token: srv.token,
        ...(op.name === 'upload' ? { body: fileForm(png, { id: 'sep/api-token' }) } : {}),
      };
      const res = await batch(srv, op.method, op.path, opts);
      expectError(res, 403, 9109);
    }
    await expectGuardIntact();
    expectError(await account(srv, 'GET', '/images/v1/sep%2Fapi-token'), 404, 5404);
  });

  it('the global key on the batch paths → 403 9109', async () => {
    const res = await batch(srv, 'GET', '/images/v2', {
      headers: { 'x-auth-email': AUTH_EMAIL, 'x-auth-key': AUTH_KEY },
    });
    expectError(res, 403, 9109);
  });

  it('the batch token on the account API → 403 9109', async () => {
    const paths: Array<[string, string, CallOpts]> = [
      ['GET', '/images/v1', {}],
      ['GET', '/images/v2', {}],
      ['GET', `/images/v1/${encodeURIComponent(GUARD_ID)}`, {}],
      ['PATCH', `/images/v1/${encodeURIComponent(GUARD_ID)}`, { json: { metadata: { x: 1 } } }],
      ['DELETE', `/images/v1/${encodeURIComponent(GUARD_ID)}`, {}],
      ['POST', '/images/v1', { body: fileForm(png, { id: 'sep/batch-on-account' }) }],
      ['POST', '/images/v2/direct_upload', { json: {} }],
      ['GET', '/images/v1/stats', {}],
      ['GET', '/images/v1/variants', {}],
      ['GET', '/images/v1/keys', {}],
    ];
    for (const [method, path, opts] of paths) {
      expectError(await account(srv, method, path, { ...opts, token: batchToken }), 403, 9109);
    }
    await expectGuardIntact();
  });

  it('an expired batch token → 403 9109 on every batch operation', async () => {
    for (const op of batchOps(GUARD_ID)) {
      const opts = {
        ...op.opts,
        token: srv.expiredBatchToken,
        ...(op.name === 'upload' ? { body: fileForm(png, { id: 'sep/expired' }) } : {}),
      };
      expectError(await batch(srv, op.method, op.path, opts), 403, 9109);
    }
    await expectGuardIntact();
    expectError(await account(srv, 'GET', '/images/v1/sep%2Fexpired'), 404, 5404);
  });

  it('no token → 400 9106 on every batch operation', async () => {
    for (const op of batchOps(GUARD_ID)) {
      const opts = {
        ...op.opts,
        token: null,
        ...(op.name === 'upload' ? { body: fileForm(png, { id: 'sep/none' }) } : {}),
      };
      expectError(await batch(srv, op.method, op.path, opts), 400, 9106);
    }
    await expectGuardIntact();
  });

  it('an unknown token → 403 9109; a malformed Authorization header → 400 6003', async () => {
    expectError(
      await batch(srv, 'GET', '/images/v2', { token: 'no-such-batch-token-0000000000' }),
      403,
      9109,
    );
    expectError(
      await batch(srv, 'GET', '/images/v2', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
      400,
      6003,
    );
  });
});

describe('the batch host cannot reach variants, keys, stats or config', () => {
  async function snapshot(): Promise<{ variants: unknown; keys: unknown; config: unknown; stats: unknown }> {
    return {
      variants: expectOk(await account(srv, 'GET', '/images/v1/variants')),
      keys: expectOk(await account(srv, 'GET', '/images/v1/keys')),
      config: expectOk(await account(srv, 'GET', '/images/v1/config')),
      stats: expectOk(await account(srv, 'GET', '/images/v1/stats')),
    };
  }

  it('GET /images/v1/variants is an image lookup (404), not the variant list', async () => {
    const res = await batch(srv, 'GET', '/images/v1/variants', { token: batchToken });
    expect(res.status).not.toBe(200);
    expect(res.text).not.toContain('"variants":{');
    expect([
      [404, 5404],
      [400, 7003],
    ]).toContainEqual([res.status, res.body?.errors?.[0]?.code]);
  });

  it('no account-level resource answers or changes through a batch token', async () => {
    const before = await snapshot();
    const keys = before.keys as { keys: Array<{ name: string; value: string }> };
    const attempts: Array<[string, string, CallOpts]> = [
      ['GET', '/images/v1/variants/public', {}],
      [
        'POST',
        '/images/v1/variants',
        { json: { id: 'sneaky', options: { fit: 'cover', width: 10, height: 10, metadata: 'none' } } },
      ],
      [
        'PATCH',
        '/images/v1/variants/public',
        { json: { options: { fit: 'cover', width: 1, height: 1, metadata: 'keep' } } },
      ],
      ['DELETE', '/images/v1/variants/public', {}],
      ['GET', '/images/v1/keys', {}],
      ['PUT', '/images/v1/keys/sneaky', {}],
      ['DELETE', '/images/v1/keys/default', {}],
      ['GET', '/images/v1/stats', {}],
      ['GET', '/images/v1/config', {}],
      ['PATCH', '/images/v1/config', { json: { flexible_variants: true, browser_ttl: 3600 } }],
      ['GET', '/images/v1/batch_token', {}],
    ];
    for (const [method, path, opts] of attempts) {
      const res = await batch(srv, method, path, { ...opts, token: batchToken });
      const ctx = `${method} ${path} → ${res.status} ${res.text.slice(0, 200)}`;
      expect(res.status, ctx).toBeGreaterThanOrEqual(400);
      expect(res.status, ctx).toBeLessThan(500);
      expect(res.body?.success, ctx).toBe(false);
      for (const k of keys.keys) expect(res.text, ctx).not.toContain(k.value);
    }
    expect(await snapshot()).toEqual(before);
  });
});
