/**
 * Operating a node: /healthz and /readyz (on the embedded store here, on PostgreSQL + S3 through cut
 * TCP proxies in readiness.test.ts), `/` and `/client/v4`, the metrics endpoint on its own port after a
 * mixed workload, and the access log of an upload, a delivery, a 404 and a 400 — which must hold no
 * token, key, signature or metadata value.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import { keptTickRecord } from '../../src/server/tick-shape.js';
import { makeImage } from '../helpers/images.js';
import { serverEnv, TEST_ACCOUNT_ID, TEST_PROCESSES, TEST_TOKEN } from '../helpers/server.js';

const SECRET_META = 'meta-value-that-must-not-be-logged-5f1c';
const AUTH_KEY = 'global-key-that-must-not-be-logged-77ab';

let server: RunningServer;
let dataDir: string;
const lines: Record<string, unknown>[] = [];
const log = new PassThrough();
let raw = '';
log.on('data', (d: Buffer) => {
  raw += d.toString();
  for (const l of d.toString().split('\n').filter(Boolean))
    lines.push(JSON.parse(l) as Record<string, unknown>);
});

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pictor-ops-'));
  const config = loadConfig({
    ...serverEnv(dataDir),
    PICTOR_AUTH_EMAIL: 'ops@127.0.0.1',
    PICTOR_AUTH_KEY: AUTH_KEY,
    PICTOR_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  });
  server = await startServer(config, { quiet: true, logStream: log });
});
afterAll(async () => {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const images = () => `${server.url}/client/v4/accounts/${TEST_ACCOUNT_ID}/images`;
const auth = { authorization: `Bearer ${TEST_TOKEN}` };

async function upload(id: string): Promise<{ variants: string[] }> {
  const form = new FormData();
  form.append(
    'file',
    new Blob([new Uint8Array(await makeImage('jpeg', 200, 150))], { type: 'image/jpeg' }),
    'a.jpg',
  );
  form.append('id', id);
  form.append('metadata', JSON.stringify({ secret: SECRET_META }));
  form.append('requireSignedURLs', 'false');
  const res = await fetch(`${images()}/v1`, {
    method: 'POST',
    headers: { ...auth, 'x-request-id': `upload-${id}` },
    body: form,
  });
  const body = (await res.json()) as { success: boolean; result: { variants: string[] } };
  expect(res.status, JSON.stringify(body)).toBe(200);
  expect(res.headers.get('x-request-id')).toBe(`upload-${id}`);
  return body.result;
}

describe('health', () => {
  it('/healthz answers 200 and /readyz names both backends ready', async () => {
    const live = await fetch(`${server.url}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe('ready');
    expect(body.checks.sqlite?.ok).toBe(true);
    expect(body.checks.fs?.ok).toBe(true);
  });

  it('/ and /client/v4 point to the API, /docs and the health endpoints', async () => {
    for (const path of ['/', '/client/v4']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ name: 'pictor', docs: '/docs', health: '/healthz' });
    }
  });

  it('a serving process keeps one nextTick record (server/tick-shape.ts); a cluster primary serves nothing', () => {
    expect(keptTickRecord() !== undefined).toBe(TEST_PROCESSES === '1');
  });

  it('the API port has no /metrics', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('http_requests_total');
  });
});

describe('metrics and access log after a mixed workload', () => {
  let deliveredUrl = '';
  beforeAll(async () => {
    const img = await upload('ops-one');
    await upload('ops-two');
    deliveredUrl = img.variants[0]!;
    for (let i = 0; i < 3; i++)
      expect((await fetch(deliveredUrl, { headers: { accept: 'image/webp' } })).status).toBe(200);
    expect((await fetch(`${images()}/v1/no-such-image`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${images()}/v1?per_page=banana`, { headers: auth })).status).toBe(400);
    // The global key pair, and a signed-looking query string: neither may reach the log.
    expect(
      (
        await fetch(`${images()}/v1/ops-one`, {
          headers: { 'x-auth-email': 'ops@127.0.0.1', 'x-auth-key': AUTH_KEY },
        })
      ).status,
    ).toBe(200);
    await fetch(`${deliveredUrl}?sig=deadbeefsignaturevalue&exp=1`);
    await fetch(`${server.url}/healthz`);
  });

  it('every metric family is served on the metrics port with plausible counts', async () => {
    const res = await fetch(`${server.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const value = (re: RegExp) => [...text.matchAll(re)].reduce((sum, m) => sum + Number(m[1]), 0);
    const uploadRoute = 'route="/client/v4/accounts/:account_id/images/v1",method="POST",status="2xx"';
    expect(
      value(
        new RegExp(
          `^http_requests_total\\{${uploadRoute.replace(/[/:]/g, (c) => `\\${c}`)}\\} (\\S+)$`,
          'gm',
        ),
      ),
    ).toBe(2);
    expect(text).toMatch(
      /^http_requests_total\{route="\/client\/v4\/accounts\/:account_id\/images\/v1\/\*",method="GET",status="4xx"\} 1$/m,
    );
    expect(text).toMatch(
      /^http_requests_total\{route="\/client\/v4\/accounts\/:account_id\/images\/v1",method="GET",status="4xx"\} 1$/m,
    );
    expect(
      value(
        /^http_requests_total\{route="\/cdn-cgi\/imagedelivery\/\*",method="GET",status="2xx"\} (\S+)$/gm,
      ),
    ).toBeGreaterThanOrEqual(3);
    expect(value(/^http_request_duration_seconds_count\{[^}]*\} (\S+)$/gm)).toBeGreaterThanOrEqual(9);
    expect(value(/^pictor_upload_bytes_count (\S+)$/gm)).toBe(2);
    expect(value(/^pictor_upload_bytes_sum (\S+)$/gm)).toBeGreaterThan(2000);
    expect(value(/^pictor_upload_duration_seconds_count (\S+)$/gm)).toBe(2);
    expect(value(/^pictor_transform_duration_seconds_count\{format="webp"\} (\S+)$/gm)).toBe(1);
    expect(value(/^pictor_transforms_total\{format="webp"\} (\S+)$/gm)).toBe(1);
    // The two repeats were hits (with one process, answered by the fast path, which counts them apart).
    expect(value(/^pictor_rendition_cache_total\{result="hit"\} (\S+)$/gm)).toBeGreaterThanOrEqual(2);
    expect(value(/^pictor_rendition_cache_total\{result="miss"\} (\S+)$/gm)).toBeGreaterThanOrEqual(1);
    // One process: the repeats are memory hits. Several: a repeat that lands on another worker finds
    // the rendition in the shared disk tier instead (each worker has its own memory).
    expect(
      value(
        TEST_PROCESSES === '1'
          ? /^pictor_rendition_cache_lookups_total\{tier="memory",result="hit"\} (\S+)$/gm
          : /^pictor_rendition_cache_lookups_total\{tier="(?:memory|disk)",result="hit"\} (\S+)$/gm,
      ),
    ).toBeGreaterThanOrEqual(2);
    expect(
      value(/^pictor_rendition_cache_lookups_total\{tier="memory",result="miss"\} (\S+)$/gm),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(/^pictor_rendition_cache_lookups_total\{tier="disk",result="miss"\} (\S+)$/gm),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(
        TEST_PROCESSES === '1'
          ? /^pictor_rendition_cache_hit_bytes_total\{tier="memory"\} (\S+)$/gm
          : /^pictor_rendition_cache_hit_bytes_total\{tier="(?:memory|disk)"\} (\S+)$/gm,
      ),
    ).toBeGreaterThan(100);
    expect(value(/^pictor_gate_slots (\S+)$/gm)).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^pictor_gate_queued 0$/m);
    expect(text).toMatch(/^pictor_gate_queue_limit \d+$/m);
    expect(
      value(/^pictor_store_operation_duration_seconds_count\{store="metadata",op="insertImage"\} (\S+)$/gm),
    ).toBe(2);
    expect(value(/^pictor_store_operation_duration_seconds_count\{store="blobs",op="put"\} (\S+)$/gm)).toBe(
      2,
    );
    expect(
      value(/^pictor_store_operation_duration_seconds_count\{store="renditions",op="get"\} (\S+)$/gm),
    ).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^# TYPE pictor_store_operation_errors_total counter$/m);
    expect(value(/^process_cpu_seconds_total (\S+)$/gm)).toBeGreaterThan(0);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
  });

  it('every answer carries X-Request-Id, the one sent or a fresh one: the API, a miss and a cached hit', async () => {
    const ids = new Set<string>();
    for (const url of [`${images()}/v1/ops-one`, deliveredUrl, deliveredUrl]) {
      const sent = await fetch(url, { headers: { ...auth, accept: 'image/png', 'x-request-id': 'mine-1' } });
      expect(sent.headers.get('x-request-id'), url).toBe('mine-1');
      const fresh = await fetch(url, { headers: { ...auth, accept: 'image/png' } });
      const id = fresh.headers.get('x-request-id');
      expect(id, url).toMatch(/^[0-9a-f-]{36}$/);
      ids.add(id!);
    }
    expect(ids.size).toBe(3);
    // The last two were answered from the memory cache (the fast path).
    const hit = await fetch(deliveredUrl, { headers: { accept: 'image/png' } });
    expect(hit.headers.get('cf-cache-status')).toBe('HIT');
    expect(hit.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // The fast path reuses one head per rendition: each answer still carries its own request's id.
    const again = await fetch(deliveredUrl, { headers: { accept: 'image/png' } });
    expect(again.headers.get('cf-cache-status')).toBe('HIT');
    expect(again.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(again.headers.get('x-request-id')).not.toBe(hit.headers.get('x-request-id'));
    // A revalidation the fast path answers 304 carries the id too (sent, then fresh).
    const etag = hit.headers.get('etag')!;
    const notModified = await fetch(deliveredUrl, {
      headers: { accept: 'image/png', 'if-none-match': etag, 'x-request-id': 'mine-304' },
    });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('x-request-id')).toBe('mine-304');
    const fresh304 = await fetch(deliveredUrl, { headers: { accept: 'image/png', 'if-none-match': etag } });
    expect(fresh304.status).toBe(304);
    expect(fresh304.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('the access log has one line per request with the fields, and no secret', async () => {
    const requests = lines.filter((l) => l.msg === 'request');
    const find = (pred: (l: Record<string, unknown>) => boolean) => requests.find(pred);
    const up = find((l) => l.reqId === 'upload-ops-one');
    expect(up).toMatchObject({
      method: 'POST',
      route: '/client/v4/accounts/:account_id/images/v1',
      status: 200,
      account: TEST_ACCOUNT_ID,
      level: 30,
    });
    expect(up!.bytesIn as number).toBeGreaterThan(2000);
    expect(up!.bytesOut as number).toBeGreaterThan(100);
    expect(typeof up!.ms).toBe('number');
    expect(typeof up!.time).toBe('number');
    const delivery = requests.filter((l) => l.route === '/cdn-cgi/imagedelivery/*' && l.status === 200);
    expect(delivery.map((l) => l.cache)).toEqual(expect.arrayContaining(['MISS', 'HIT']));
    // Bytes are per request, not per connection (fetch keeps its connections alive): every cached
    // answer (the same image, in one or two formats) counts about the same bytes out, never the sum
    // of the answers before it on its connection.
    const hitsOut = delivery.filter((l) => l.cache === 'HIT').map((l) => l.bytesOut as number);
    expect(hitsOut.length).toBeGreaterThan(1);
    expect(Math.max(...hitsOut)).toBeLessThan(1.5 * Math.min(...hitsOut));
    expect(
      find((l) => l.status === 404 && l.route === '/client/v4/accounts/:account_id/images/v1/*'),
    ).toBeDefined();
    expect(
      find(
        (l) =>
          l.status === 400 && l.route === '/client/v4/accounts/:account_id/images/v1' && l.method === 'GET',
      ),
    ).toBeDefined();
    // The probe is logged at debug, so not at info.
    expect(find((l) => l.route === '/healthz')).toBeUndefined();
    for (const secret of [
      TEST_TOKEN,
      AUTH_KEY,
      SECRET_META,
      'deadbeefsignaturevalue',
      'sig=',
      'ops@127.0.0.1',
    ])
      expect(raw).not.toContain(secret);
    expect(raw).not.toMatch(/authorization/i);
  });
});
