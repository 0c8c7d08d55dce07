/**
 * Http (transfer retries) against a real HTTP server on 127.0.0.1 that answers from a script: each
 * request takes the next answer (a status with headers, a dropped connection, or no answer at all).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Http, HttpError, retryAfterMs, retryable, type HttpOptions } from './http.js';

type Answer =
  | { status: number; headers?: Record<string, string>; body?: string }
  | { drop: true }
  | { hang: true };

let server: Server;
let base: string;
let script: Answer[] = [];
/** Every request the server saw: when (ms, this process's clock), method and body. */
let seen: Array<{ at: number; method: string; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ at: performance.now(), method: req.method ?? '', body: Buffer.concat(chunks).toString() });
      const answer = script.shift() ?? { status: 200, body: 'default' };
      if ('drop' in answer) {
        req.socket.destroy();
        return;
      }
      if ('hang' in answer) return;
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      res.end(answer.body ?? `status ${answer.status}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  script = [];
  seen = [];
});

/** An Http whose retries are recorded; tiny backoff so nothing here waits long. */
function client(opts: HttpOptions = {}) {
  const retries: Array<{ attempt: number; status: number | null; delayMs: number; reason: string }> = [];
  const http = new Http({
    baseDelayMs: 1,
    maxDelayMs: 5_000,
    ...opts,
    onRetry: ({ attempt, status, delayMs, reason }) => retries.push({ attempt, status, delayMs, reason }),
  });
  return { http, retries };
}

describe('retryAfterMs', () => {
  it('reads seconds (whole and fractional) and HTTP dates; absent or unreadable is undefined', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(' 0.25 ')).toBe(250);
    expect(retryAfterMs('0')).toBe(0);
    const now = Date.parse('Tue, 01 Dec 2026 12:00:00 GMT');
    expect(retryAfterMs('Tue, 01 Dec 2026 12:00:07 GMT', now)).toBe(7000);
    // A date in the past asks for no wait at all.
    expect(retryAfterMs('Tue, 01 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('')).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs('-1')).toBeUndefined();
    expect(retryAfterMs('120abc')).toBeUndefined();
    expect(retryAfterMs('Sunday, 06-Nov-94 08:49:37 GMT', Date.parse('1994-11-06T08:49:30Z'))).toBe(7000);
    expect(retryAfterMs('Sun Nov  6 08:49:37 1994', Date.parse('1994-11-06T08:49:37'))).toBe(0);
  });

  it('retries 429 and every 5xx, nothing else', () => {
    for (const s of [429, 500, 502, 503, 504, 599]) expect(retryable(s), String(s)).toBe(true);
    for (const s of [200, 201, 204, 301, 304, 400, 401, 403, 404, 409, 413, 415, 422, 428])
      expect(retryable(s), String(s)).toBe(false);
  });
});

describe('Http.fetch against a local server', () => {
  it('waits what Retry-After asks on a 429, then returns the success', async () => {
    script = [
      { status: 429, headers: { 'retry-after': '0.3' } },
      { status: 200, body: 'ok' },
    ];
    const { http, retries } = client();
    const res = await http.fetch(`${base}/x`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(seen).toHaveLength(2);
    // The backoff alone would wait at most 1 ms here: 300 ms is the server's ask.
    expect(retries).toEqual([{ attempt: 1, status: 429, delayMs: 300, reason: 'HTTP 429' }]);
    // The second request really came after the wait (a lower bound: a sleep never ends early).
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(290);
  });

  it('honours Retry-After as an HTTP date on a 503', async () => {
    // A date an hour ahead asks for an hour (capped here at 80 ms); one in the past for no wait. The
    // backoff alone would wait at most 1 ms, so both are the date read, whatever the machine's load.
    const ahead = new Date(Date.now() + 3_600_000).toUTCString();
    const past = new Date(Date.now() - 3_600_000).toUTCString();
    script = [
      { status: 503, headers: { 'retry-after': ahead } },
      { status: 503, headers: { 'retry-after': past } },
      { status: 204 },
    ];
    const { http, retries } = client({ maxDelayMs: 80 });
    const res = await http.fetch(`${base}/date`);
    expect(res.status).toBe(204);
    expect(retries.map((r) => r.delayMs)).toEqual([80, 0]);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(75);
  });

  it('caps a long Retry-After at maxDelayMs', async () => {
    script = [{ status: 429, headers: { 'retry-after': '3600' } }, { status: 200 }];
    const { http, retries } = client({ maxDelayMs: 50 });
    expect((await http.fetch(`${base}/cap`)).status).toBe(200);
    expect(retries.map((r) => r.delayMs)).toEqual([50]);
  });

  it('without Retry-After backs off exponentially with jitter, for 429 and 5xx alike', async () => {
    script = [{ status: 500 }, { status: 502 }, { status: 429 }, { status: 503 }, { status: 200 }];
    const { http, retries } = client({ baseDelayMs: 20, retries: 5 });
    expect((await http.fetch(`${base}/backoff`)).status).toBe(200);
    expect(seen).toHaveLength(5);
    expect(retries.map((r) => r.status)).toEqual([500, 502, 429, 503]);
    // Attempt n waits base·2^(n-1), scaled by a jitter factor in [0.5, 1].
    retries.forEach((r, i) => {
      const full = 20 * 2 ** i;
      expect(r.delayMs, `retry ${i + 1}`).toBeGreaterThanOrEqual(full / 2);
      expect(r.delayMs, `retry ${i + 1}`).toBeLessThanOrEqual(full);
    });
  });

  it('stops after the retry limit and returns the last answer', async () => {
    script = Array.from({ length: 10 }, () => ({ status: 503, body: 'still down' }));
    const { http, retries } = client({ retries: 2 });
    const res = await http.fetch(`${base}/down`);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('still down');
    expect(seen).toHaveLength(3);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
  });

  it('retries: 0 sends exactly once', async () => {
    script = [{ status: 429, headers: { 'retry-after': '0' } }, { status: 200 }];
    const { http, retries } = client({ retries: 0 });
    expect((await http.fetch(`${base}/once`)).status).toBe(429);
    expect(seen).toHaveLength(1);
    expect(retries).toEqual([]);
  });

  it('never retries a 4xx other than 429, even with Retry-After', async () => {
    for (const status of [400, 401, 403, 404, 409, 413, 415]) {
      seen = [];
      script = [{ status, headers: { 'retry-after': '0' } }, { status: 200 }];
      const { http, retries } = client();
      const res = await http.fetch(`${base}/client-error`, { method: 'POST', body: () => 'x' });
      expect(res.status, String(status)).toBe(status);
      expect(seen, String(status)).toHaveLength(1);
      expect(retries, String(status)).toEqual([]);
    }
  });

  it('retries a dropped connection and rebuilds the body for every attempt', async () => {
    script = [{ drop: true }, { status: 500 }, { status: 201, body: 'made' }];
    const { http, retries } = client();
    let built = 0;
    const res = await http.fetch(`${base}/post`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: () => {
        built += 1;
        return `payload ${built}`;
      },
    });
    expect(res.status).toBe(201);
    expect(built).toBe(3);
    expect(seen.map((s) => [s.method, s.body])).toEqual([
      ['POST', 'payload 1'],
      ['POST', 'payload 2'],
      ['POST', 'payload 3'],
    ]);
    expect(retries.map((r) => r.status)).toEqual([null, 500]);
  });

  it('gives up on network failures after the limit with an HttpError naming the attempts', async () => {
    script = [{ drop: true }, { drop: true }, { drop: true }];
    const { http } = client({ retries: 2 });
    const failure = await http.fetch(`${base}/gone`).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HttpError);
    expect((failure as HttpError).status).toBeNull();
    expect((failure as HttpError).message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/gone: .+ \(after 3 attempts\)$/,
    );
    expect(seen).toHaveLength(3);
  });

  it('times out an attempt that gets no answer, and tries again', async () => {
    script = [{ hang: true }, { status: 200, body: 'late but fine' }];
    const { http, retries } = client({ timeoutMs: 200 });
    const res = await http.fetch(`${base}/slow`);
    expect(await res.text()).toBe('late but fine');
    expect(retries).toHaveLength(1);
    expect(retries[0]!.status).toBeNull();
  });
});
