/**
 * Scale-out, end to end: two Pictor nodes in this process share one PostgreSQL schema (a fresh one)
 * and one S3 bucket + prefix (s3rver in-process), on different ports and data directories, with the
 * same account id and API token. Every change made through node A must be visible on node B:
 * before each change B's caches are warmed (the same delivery URL fetched twice), so a node that kept
 * serving from a per-process cache would show the stale answer. "At once" for the API and for
 * signed URLs (read from the database on every request); for public delivery URLs, which B memoises,
 * within the propagation bound (PROPAGATION_BOUND_MS, 1 s; they would stay stale for ever if the
 * notification were lost). Both nodes memoise resolutions and learn of each other's changes through
 * PostgreSQL LISTEN/NOTIFY (test/e2e/change-notify.test.ts measures the delay and covers a lost
 * listening connection).
 *
 * Skips with the helper's one-line message when PostgreSQL does not answer (fails under CI).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import {
  accountHashOf,
  api,
  cdnUrl,
  createVariant,
  fetchBytes,
  listKeys,
  makeScene,
  show,
  upload,
  type DeliveryServer,
  type Envelope,
  type Fetched,
  type ImageJson,
} from '../helpers/delivery.js';
import { dropSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';
import { TEST_ACCOUNT_ID, TEST_PROCESSES, TEST_TOKEN } from '../helpers/server.js';

const available = await postgresAvailable();

const nowSeconds = () => Math.floor(Date.now() / 1000);

function hmacHex(message: string, key: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(message, 'utf8').digest('hex');
}

interface Node extends DeliveryServer {
  name: string;
}

/** The env both nodes share: one schema, one bucket and prefix, one account and token. */
function sharedEnv(schema: string, s3: TestS3, prefix: string): Record<string, string> {
  return {
    DATABASE_URL: TEST_DATABASE_URL,
    PICTOR_DATABASE_SCHEMA: schema,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_REGION: s3.region,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    S3_PREFIX: prefix,
    PICTOR_ACCOUNT_ID: TEST_ACCOUNT_ID,
    PICTOR_API_TOKEN: TEST_TOKEN,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    PICTOR_METRICS_PORT: '0',
  };
}

async function startNode(name: string, shared: Record<string, string>): Promise<Node> {
  const dataDir = mkdtempSync(join(tmpdir(), `pictor-2n-${name}-`));
  let server: RunningServer;
  try {
    server = await startServer(
      loadConfig({
        PICTOR_PROCESSES: TEST_PROCESSES,
        PICTOR_METRICS_PORT: '0',
        ...shared,
        PICTOR_DATA_DIR: dataDir,
      }),
      { quiet: true },
    );
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    name,
    url: server.url,
    metricsUrl: server.metricsUrl!,
    images: `${server.url}/client/v4/accounts/${TEST_ACCOUNT_ID}/images`,
    deliveryUrl: server.deliveryUrl,
    accountId: TEST_ACCOUNT_ID,
    token: TEST_TOKEN,
    dataDir,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A raw API call: status and parsed envelope (never throws on a failure envelope). */
async function call(
  node: Node,
  method: string,
  path: string,
): Promise<{ status: number; env: Envelope<unknown> | undefined; text: string }> {
  const res = await fetch(`${node.images}${path}`, {
    method,
    headers: { authorization: `Bearer ${node.token}` },
  });
  const text = await res.text();
  let env: Envelope<unknown> | undefined;
  try {
    env = JSON.parse(text) as Envelope<unknown>;
  } catch {
    env = undefined;
  }
  return { status: res.status, env, text };
}

function expectImage(res: Fetched): void {
  expect(res.status, show(res)).toBe(200);
  expect(res.headers.get('content-type') ?? '', show(res)).toMatch(/^image\//);
}

function expectDeliveryError(res: Fetched, status: number, code: number): void {
  expect(res.status, show(res)).toBe(status);
  expect(res.headers.get('cf-resized'), show(res)).toBe(`err=${code}`);
}

async function widthOf(res: Fetched): Promise<number | undefined> {
  return (await sharp(res.body).metadata()).width;
}

/**
 * The bound docs/deploy.md states for a change on one node to reach the memo of another (LISTEN/NOTIFY;
 * measured in change-notify.test.ts). A delivery URL B has memoised is fetched until it passes `check`;
 * if it still fails after the bound, the last failure is the test's.
 */
const PROPAGATION_BOUND_MS = 1000;

async function withinBound(url: string, check: (res: Fetched) => void | Promise<void>): Promise<void> {
  const end = performance.now() + PROPAGATION_BOUND_MS;
  for (;;) {
    const res = await fetchBytes(url);
    try {
      await check(res);
      return;
    } catch (e) {
      if (performance.now() > end) throw e;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Fetches a URL twice on a node so its rendition cache and any resolution memo hold it. */
async function warm(url: string, check: (res: Fetched) => void | Promise<void>): Promise<void> {
  for (let i = 0; i < 2; i++) await check(await fetchBytes(url));
}

describe.skipIf(!available)('two nodes on one PostgreSQL schema and one S3 bucket', () => {
  let s3: TestS3;
  let schema: string;
  let a: Node;
  let b: Node;
  let hash: string;
  let photo: Buffer;
  /** Uploaded on A; becomes signed-only during the run. */
  let imageId: string;
  /** Uploaded on B; stays public (flexible variants). */
  let otherId: string;

  beforeAll(async () => {
    s3 = await startTestS3();
    schema = `pictor_2n_${randomBytes(6).toString('hex')}`;
    const shared = sharedEnv(schema, s3, `two-nodes-${randomBytes(6).toString('hex')}`);
    // One after the other: the first start creates the schema, the account and the token.
    a = await startNode('a', shared);
    b = await startNode('b', shared);
    photo = await makeScene('jpeg', 900, 600);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    if (schema) await dropSchema(schema);
    await s3?.close();
  });

  it('the nodes listen on different ports', () => {
    expect(a.url).not.toBe(b.url);
  });

  it('both nodes memoise resolutions (their change listeners are up), so every check below runs with the memo on', async () => {
    for (const node of [a, b]) {
      const text = await (await fetch(`${node.metricsUrl}/metrics`)).text();
      expect(/^pictor_memo_enabled\s+1$/m.test(text), text.slice(0, 500)).toBe(true);
    }
  });

  it('an image uploaded on A is listed, detailed, downloaded and delivered on B', async () => {
    const img = await upload(a, photo, { filename: 'scene.jpg', contentType: 'image/jpeg' });
    imageId = img.id;
    hash = accountHashOf(img);

    const details = await api<ImageJson>(b, 'GET', `/v1/${imageId}`);
    expect(details.id).toBe(imageId);
    expect(details.filename).toBe('scene.jpg');

    const list = await api<{ images: ImageJson[] }>(b, 'GET', '/v1');
    expect(list.images.map((i) => i.id)).toContain(imageId);

    const blob = await fetchBytes(`${b.images}/v1/${imageId}/blob`, { authorization: `Bearer ${b.token}` });
    expect(blob.status, show(blob)).toBe(200);
    expect(blob.body.equals(photo)).toBe(true);

    const res = await fetchBytes(cdnUrl(b, hash, imageId, 'public'));
    expectImage(res);
    expect(await widthOf(res)).toBe(900);
  });

  it('an image uploaded on B is delivered on A', async () => {
    const img = await upload(b, await makeScene('png', 640, 480), {
      filename: 'other.png',
      contentType: 'image/png',
    });
    otherId = img.id;
    const res = await fetchBytes(cdnUrl(a, hash, otherId, 'public'));
    expectImage(res);
    expect(await widthOf(res)).toBe(640);
  });

  it('a variant edited on A (width 300 → 150): B serves the new width within the bound', async () => {
    await createVariant(a, 'thumb', { fit: 'scale-down', width: 300 });
    const url = cdnUrl(b, hash, imageId, 'thumb');
    await warm(url, async (res) => {
      expectImage(res);
      expect(await widthOf(res)).toBe(300);
    });

    await api(a, 'PATCH', '/v1/variants/thumb', { options: { fit: 'scale-down', width: 150 } });

    await withinBound(url, async (after) => {
      expectImage(after);
      expect(await widthOf(after)).toBe(150);
    });
    // B's API agrees too.
    const v = await api<{ variant: { options: { width?: number } } }>(b, 'GET', '/v1/variants/thumb');
    expect(v.variant.options.width).toBe(150);
  });

  it('a variant deleted on A: B answers 404 within the bound', async () => {
    const url = cdnUrl(b, hash, imageId, 'thumb');
    await warm(url, expectImage);

    await api(a, 'DELETE', '/v1/variants/thumb');

    await withinBound(url, (res) => expectDeliveryError(res, 404, 9431));
  });

  it('an image made signed-only on A: B refuses unsigned URLs within the bound', async () => {
    const url = cdnUrl(b, hash, imageId, 'public');
    await warm(url, expectImage);

    const patched = await api<ImageJson>(a, 'PATCH', `/v1/${imageId}`, { requireSignedURLs: true });
    expect(patched.requireSignedURLs).toBe(true);

    await withinBound(url, (res) => expectDeliveryError(res, 403, 9425));
  });

  let addedKey: string;
  let signedWithAdded: string;

  it('a signing key added on A: a URL signed with it verifies on B at once', async () => {
    const base = cdnUrl(b, hash, imageId, 'public');
    const exp = nowSeconds() + 600;
    const message = `/${hash}/${imageId}/public?exp=${exp}`;
    // Warm B with a URL signed by the default key.
    const def = (await listKeys(b)).find((k) => k.name === 'default');
    expect(def).toBeDefined();
    await warm(`${base}?exp=${exp}&sig=${hmacHex(message, def!.value)}`, expectImage);

    const keys = (await api<{ keys: Array<{ name: string; value: string }> }>(a, 'PUT', '/v1/keys/nodekey2'))
      .keys;
    const added = keys.find((k) => k.name === 'nodekey2');
    expect(added, JSON.stringify(keys)).toBeDefined();
    addedKey = added!.value;
    signedWithAdded = `${base}?exp=${exp}&sig=${hmacHex(message, addedKey)}`;

    expectImage(await fetchBytes(signedWithAdded));
    expect((await listKeys(b)).map((k) => k.name).sort()).toEqual(['default', 'nodekey2']);
  });

  it('a signing key deleted on A: B refuses URLs signed with it at once', async () => {
    await warm(signedWithAdded, expectImage);

    await api(a, 'DELETE', '/v1/keys/nodekey2');

    expectDeliveryError(await fetchBytes(signedWithAdded), 403, 9425);
  });

  it('flexible variants enabled on A: B serves w=100 within the bound', async () => {
    const url = cdnUrl(b, hash, otherId, 'w=100');
    await warm(url, (res) => expectDeliveryError(res, 403, 9429));
    await warm(cdnUrl(b, hash, otherId, 'public'), expectImage);

    await api(a, 'PATCH', '/v1/config', { flexible_variants: true });

    await withinBound(url, async (res) => {
      expectImage(res);
      expect(await widthOf(res)).toBe(100);
    });
  });

  it('a direct-upload draft created on A is completed on B', async () => {
    const res = await fetch(`${a.images}/v2/direct_upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}` },
    });
    const env = (await res.json()) as Envelope<{ id: string; uploadURL: string }>;
    expect(res.status, JSON.stringify(env)).toBe(200);
    const { id, uploadURL } = env.result;
    expect(uploadURL.startsWith(`${a.url}/upload/`), uploadURL).toBe(true);

    // B sees the draft.
    const draft = await api<ImageJson & { draft?: boolean }>(b, 'GET', `/v1/${id}`);
    expect(draft.draft).toBe(true);

    const onB = new URL(uploadURL);
    onB.port = new URL(b.url).port;
    const form = new FormData();
    form.append(
      'file',
      new Blob([new Uint8Array(await makeScene('jpeg', 400, 300))], { type: 'image/jpeg' }),
      'direct.jpg',
    );
    const done = await fetch(onB, { method: 'POST', body: form });
    const text = await done.text();
    expect(done.status, text).toBe(200);
    const completed = (JSON.parse(text) as Envelope<ImageJson>).result;
    expect(completed.id).toBe(id);

    const details = await api<ImageJson & { draft?: boolean }>(a, 'GET', `/v1/${id}`);
    expect(details.draft ?? false).toBe(false);
    expect(details.filename).toBe('direct.jpg');
    const delivered = await fetchBytes(cdnUrl(a, hash, id, 'public'));
    expectImage(delivered);
    expect(await widthOf(delivered)).toBe(400);
    expectImage(await fetchBytes(cdnUrl(b, hash, id, 'public')));

    // The one-time URL is spent on both nodes.
    const again = new FormData();
    again.append(
      'file',
      new Blob([new Uint8Array(await makeScene('jpeg', 400, 300))], { type: 'image/jpeg' }),
      'again.jpg',
    );
    const second = await fetch(uploadURL, { method: 'POST', body: again });
    expect(second.status, await second.text()).toBeGreaterThanOrEqual(400);
  });

  it('an image deleted on A: B answers 404 (delivery within the bound; details and blob at once)', async () => {
    const url = cdnUrl(b, hash, otherId, 'public');
    await warm(url, expectImage);
    await warm(cdnUrl(b, hash, otherId, 'w=100'), expectImage);

    await api(a, 'DELETE', `/v1/${otherId}`);

    await withinBound(url, (res) => expectDeliveryError(res, 404, 9431));
    await withinBound(cdnUrl(b, hash, otherId, 'w=100'), (res) => expectDeliveryError(res, 404, 9431));
    const details = await call(b, 'GET', `/v1/${otherId}`);
    expect(details.status, details.text).toBe(404);
    expect(details.env?.errors[0]?.code, details.text).toBe(5404);
    const blob = await call(b, 'GET', `/v1/${otherId}/blob`);
    expect(blob.status, blob.text).toBe(404);
    const list = await api<{ images: ImageJson[] }>(b, 'GET', '/v1');
    expect(list.images.map((i) => i.id)).not.toContain(otherId);
  });
});

describe.skipIf(!available)('two nodes starting at once on an empty schema', () => {
  it('both come up and serve the same account', async () => {
    const s3 = await startTestS3();
    const schema = `pictor_2n_${randomBytes(6).toString('hex')}`;
    const shared = sharedEnv(schema, s3, `two-nodes-${randomBytes(6).toString('hex')}`);
    const started = await Promise.allSettled([startNode('c', shared), startNode('d', shared)]);
    try {
      const failures = started
        .filter((s): s is PromiseRejectedResult => s.status === 'rejected')
        .map((s) => String(s.reason));
      expect(failures, failures.join('\n')).toEqual([]);
      const [c, d] = started.map((s) => (s as PromiseFulfilledResult<Node>).value) as [Node, Node];
      const img = await upload(c, await makeScene('jpeg', 320, 240), {
        filename: 'x.jpg',
        contentType: 'image/jpeg',
      });
      expectImage(await fetchBytes(cdnUrl(d, accountHashOf(img), img.id, 'public')));
    } finally {
      for (const s of started) if (s.status === 'fulfilled') await s.value.close();
      await dropSchema(schema);
      await s3.close();
    }
  });
});
