/**
 * fetchUrl against a local origin (node:http on 127.0.0.1, and on [::1] when the host has it).
 *
 * NETWORK RULE: every URL here points at loopback (127.0.0.0/8, ::1, `localhost`) or at a name that
 * only the injected fake resolver knows (which answers loopback addresses and never touches DNS).
 * Non-loopback address classification is tested in address-guard.test.ts, by pure functions only.
 */
import { once } from 'node:events';
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeImage } from '../../test/helpers/images.js';
import { parseAllowlist, type LookupFn } from './address-guard.js';
import { fetchUrl, FetchUrlError, type FetchFailure, type FetchUrlOptions } from './fetch-url.js';

// ---------------------------------------------------------------------------------------------------
// The local origin
// ---------------------------------------------------------------------------------------------------

interface Seen {
  /** Which listener: '127.0.0.1' or '::1'. */
  via: string;
  method: string;
  path: string;
  host: string | undefined;
  authorization: string | undefined;
}

let png: Buffer;
let port: number;
let v4Server: http.Server;
let v6Server: http.Server | null = null;
let seen: Seen[] = [];
/** Set by /big-chunked when its response closes, with the bytes it wrote. */
let bigClosed: { written: number } | null = null;
let closedPort: number;
let otherServer: http.Server;
let otherPort: number;

const USER = 'al ice';
const PASS = 'p@ss:word';
const GOOD_AUTH = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sendPng(res: http.ServerResponse, type = 'image/png'): void {
  res.writeHead(200, { 'content-type': type, 'content-length': png.length });
  res.end(png);
}

function handler(via: string): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://origin.invalid');
    const path = url.pathname;
    seen.push({
      via,
      method: req.method ?? '',
      path: req.url ?? '',
      host: req.headers.host,
      authorization: req.headers.authorization,
    });
    let m: RegExpMatchArray | null;

    if (path === '/x' || path === '/img.png' || path.startsWith('/files/')) return sendPng(res);
    if (path === '/chunked.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(png.subarray(0, 100));
      res.end(png.subarray(100));
      return;
    }
    if (path === '/text-lie') return sendPng(res, 'text/plain');
    // /chain/<n>/<name>?mode=abs|rel&status=302 → n redirects, then the PNG.
    m = path.match(/^\/chain\/(\d+)\/([^/]+)$/);
    if (m) {
      const n = Number(m[1]);
      if (n === 0) return sendPng(res);
      const mode = url.searchParams.get('mode') ?? 'rel';
      const status = Number(url.searchParams.get('status') ?? 302);
      const next = `/chain/${n - 1}/${m[2]}${url.search}`;
      const location =
        mode === 'abs'
          ? `http://127.0.0.1:${port}${next}`
          : mode === 'dot'
            ? `../${n - 1}/${m[2]}${url.search}`
            : next;
      res.writeHead(status, { location });
      return res.end();
    }
    // Each hop waits before redirecting (total timeout across redirects).
    m = path.match(/^\/slow-chain\/(\d+)$/);
    if (m) {
      const n = Number(m[1]);
      setTimeout(() => {
        if (res.destroyed) return;
        if (n === 0) return sendPng(res);
        res.writeHead(302, { location: `/slow-chain/${n - 1}` });
        res.end();
      }, 150);
      return;
    }
    if (path === '/to-refused') {
      res.writeHead(302, { location: `http://127.0.0.2:${port}/x` });
      return res.end();
    }
    if (path === '/to-decimal-loopback') {
      res.writeHead(302, { location: `http://2130706433:${port}/x` });
      return res.end();
    }
    if (path === '/to-closed-port') {
      res.writeHead(302, { location: `http://127.0.0.1:${closedPort}/x` });
      return res.end();
    }
    if (path === '/to-ftp') {
      res.writeHead(302, { location: `ftp://127.0.0.1:${port}/x` });
      return res.end();
    }
    if (path === '/to-file') {
      res.writeHead(302, { location: 'file:///etc/passwd' });
      return res.end();
    }
    if (path === '/to-invalid') {
      res.writeHead(302, { location: 'http://[::1' });
      return res.end();
    }
    if (path === '/redirect-no-location') {
      res.writeHead(302);
      return res.end();
    }
    if (path === '/to-named') {
      // A redirect to a name that only the fake resolver knows.
      res.writeHead(302, { location: `http://${url.searchParams.get('host')}:${port}/files/named.png` });
      return res.end();
    }
    // Basic auth.
    if (path.startsWith('/auth/')) {
      if (req.headers.authorization !== GOOD_AUTH) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="pictor-test"' });
        return res.end();
      }
      if (path === '/auth/img.png') return sendPng(res);
      if (path === '/auth/to-localhost') {
        res.writeHead(302, { location: `http://localhost:${port}/echo/leak.png` });
        return res.end();
      }
      if (path === '/auth/to-other-port') {
        res.writeHead(302, { location: `http://127.0.0.1:${otherPort}/echo/other.png` });
        return res.end();
      }
      if (path === '/auth/to-same') {
        res.writeHead(302, { location: '/auth/img.png' });
        return res.end();
      }
      if (path === '/auth/to-localhost-and-back') {
        res.writeHead(302, { location: `http://localhost:${port}/bounce` });
        return res.end();
      }
    }
    if (path === '/echo/leak.png' || path === '/echo/other.png' || path === '/') return sendPng(res);
    if (path === '/bounce') {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/echo/back.png` });
      return res.end();
    }
    if (path === '/echo/back.png') return sendPng(res);
    // Never answers.
    if (path === '/slow') return;
    // Headers and part of the body, then nothing.
    if (path === '/stall-body') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
      res.write(png.subarray(0, 64));
      return;
    }
    // No Content-Length, streams until the client goes away.
    if (path === '/big-chunked') {
      res.writeHead(200, { 'content-type': 'image/png' });
      let written = 0;
      const chunk = Buffer.alloc(16 * 1024, 0xab);
      res.on('close', () => {
        bigClosed = { written };
      });
      const pump = () => {
        while (!res.destroyed && written < 200 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
      return;
    }
    // Declares a body over the cap, sends a little, then waits.
    if (path === '/big-declared') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': 50 * 1024 * 1024 });
      res.write(png.subarray(0, 64));
      return;
    }
    m = path.match(/^\/status\/(\d{3})$/);
    if (m) {
      res.writeHead(Number(m[1]), { 'content-type': 'text/plain' });
      return res.end(`status ${m[1]}`);
    }
    res.writeHead(404);
    res.end();
  };
}

async function listen(server: http.Server, host: string, p: number): Promise<number> {
  server.listen(p, host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  png = await makeImage('png', 64, 48);
  v4Server = http.createServer(handler('127.0.0.1'));
  port = await listen(v4Server, '127.0.0.1', 0);
  // The same origin on [::1] (so `[::1]` / `localhost` would reach it if a guard failed).
  const s6 = http.createServer(handler('::1'));
  try {
    await listen(s6, '::1', port);
    v6Server = s6;
  } catch {
    v6Server = null;
  }
  // Another origin: same host, another port.
  otherServer = http.createServer(handler('other-port'));
  otherPort = await listen(otherServer, '127.0.0.1', 0);
  // A port with nothing listening.
  const tmp = http.createServer();
  closedPort = await listen(tmp, '127.0.0.1', 0);
  await new Promise<void>((r) => tmp.close(() => r()));
});

afterAll(async () => {
  for (const s of [v4Server, v6Server, otherServer]) {
    if (!s) continue;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

beforeEach(() => {
  seen = [];
  bigClosed = null;
});

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

const LOOPBACK_V4 = parseAllowlist(['127.0.0.0/8']);
const ONLY_127_0_0_1 = parseAllowlist(['127.0.0.1/32']);
const LOOPBACK_BOTH = parseAllowlist(['127.0.0.0/8', '::1/128']);

function opts(over: Partial<FetchUrlOptions> = {}): FetchUrlOptions {
  return {
    policy: { allow: LOOPBACK_V4 },
    maxBytes: 1024 * 1024,
    maxRedirects: 5,
    connectTimeoutMs: 2000,
    totalTimeoutMs: 5000,
    ...over,
  };
}

const base = () => `http://127.0.0.1:${port}`;

async function failure(p: Promise<unknown>): Promise<FetchFailure> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(FetchUrlError);
    return (e as FetchUrlError).failure;
  }
  throw new Error('fetchUrl resolved; a failure was expected');
}

async function expectFailure(
  p: Promise<unknown>,
  kind: FetchFailure['kind'],
  message?: RegExp,
): Promise<FetchFailure> {
  const f = await failure(p);
  expect(f.kind, f.message).toBe(kind);
  if (message) expect(f.message).toMatch(message);
  return f;
}

/** A resolver answering from a table; unknown names fail with ENOTFOUND. Never touches DNS. */
function fakeResolver(table: Record<string, string[] | 'hang'>, calls: string[] = []): LookupFn {
  const fn = (hostname: string, options: unknown, callback: unknown) => {
    calls.push(hostname);
    const cb = (typeof options === 'function' ? options : callback) as (
      err: NodeJS.ErrnoException | null,
      a?: LookupAddress[],
    ) => void;
    const answer = table[hostname];
    if (answer === 'hang') return; // never answers
    setImmediate(() => {
      if (!answer) {
        const err = new Error(`getaddrinfo ENOTFOUND ${hostname}`) as NodeJS.ErrnoException;
        err.code = 'ENOTFOUND';
        return cb(err);
      }
      cb(
        null,
        answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
    });
  };
  return fn as unknown as LookupFn;
}

// ---------------------------------------------------------------------------------------------------
// Success
// ---------------------------------------------------------------------------------------------------

describe('fetchUrl: success', () => {
  it('fetches the bytes and names the file after the last path segment', async () => {
    const got = await fetchUrl(`${base()}/img.png`, opts());
    expect(got.data.equals(png)).toBe(true);
    expect(got.filename).toBe('img.png');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('GET');
    expect(seen[0]!.authorization).toBeUndefined();
  });

  it('percent-decodes the filename (/files/my%20cat.png → "my cat.png")', async () => {
    expect((await fetchUrl(`${base()}/files/my%20cat.png`, opts())).filename).toBe('my cat.png');
    expect((await fetchUrl(`${base()}/files/caf%C3%A9.png?size=big#frag`, opts())).filename).toBe('café.png');
  });

  it('keeps an undecodable segment as it is', async () => {
    expect((await fetchUrl(`${base()}/files/bad%E0%A4%A.png`, opts())).filename).toBe('bad%E0%A4%A.png');
  });

  it('a path without a segment gives no filename; a trailing slash names the last directory', async () => {
    expect((await fetchUrl(`${base()}/`, opts())).filename).toBeNull();
    expect((await fetchUrl(`${base()}/files/`, opts())).filename).toBe('files');
  });

  it('reads a body without Content-Length', async () => {
    const got = await fetchUrl(`${base()}/chunked.png`, opts());
    expect(got.data.equals(png)).toBe(true);
  });

  it('ignores the Content-Type the origin claims', async () => {
    const got = await fetchUrl(`${base()}/text-lie`, opts());
    expect(got.data.equals(png)).toBe(true);
    expect(got.filename).toBe('text-lie');
  });

  it('a body of exactly maxBytes is accepted', async () => {
    expect((await fetchUrl(`${base()}/img.png`, opts({ maxBytes: png.length }))).data.equals(png)).toBe(true);
    expect((await fetchUrl(`${base()}/chunked.png`, opts({ maxBytes: png.length }))).data.equals(png)).toBe(
      true,
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------------------------------

describe('fetchUrl: redirects', () => {
  it.each([[1], [2], [3], [4], [5]])(
    'follows %i relative redirect(s); the filename comes from the final URL',
    async (n) => {
      const got = await fetchUrl(`${base()}/chain/${n}/final.png?mode=rel`, opts());
      expect(got.data.equals(png)).toBe(true);
      expect(got.filename).toBe('final.png');
      expect(seen).toHaveLength(n + 1);
      expect(seen.at(-1)!.path).toBe('/chain/0/final.png?mode=rel');
    },
  );

  it.each([[1], [5]])('follows %i absolute redirect(s)', async (n) => {
    const got = await fetchUrl(`${base()}/chain/${n}/abs.png?mode=abs`, opts());
    expect(got.data.equals(png)).toBe(true);
    expect(got.filename).toBe('abs.png');
    expect(seen).toHaveLength(n + 1);
  });

  it('follows dot-relative Locations', async () => {
    const got = await fetchUrl(`${base()}/chain/3/dot.png?mode=dot`, opts());
    expect(got.filename).toBe('dot.png');
    expect(seen.map((s) => s.path)).toEqual([
      '/chain/3/dot.png?mode=dot',
      '/chain/2/dot.png?mode=dot',
      '/chain/1/dot.png?mode=dot',
      '/chain/0/dot.png?mode=dot',
    ]);
  });

  it.each([[301], [302], [303], [307], [308]])('follows a %i', async (status) => {
    const got = await fetchUrl(`${base()}/chain/1/s.png?status=${status}`, opts());
    expect(got.data.equals(png)).toBe(true);
    expect(seen.map((s) => s.method)).toEqual(['GET', 'GET']);
  });

  it('6 redirects are one too many (maxRedirects 5), and the 7th request is never made', async () => {
    await expectFailure(
      fetchUrl(`${base()}/chain/6/final.png`, opts()),
      'origin',
      /redirected more than 5 times/,
    );
    expect(seen).toHaveLength(6);
    await expectFailure(fetchUrl(`${base()}/chain/6/final.png?mode=abs`, opts()), 'origin', /more than 5/);
  });

  it('honours a smaller maxRedirects (0 = no redirect)', async () => {
    await expectFailure(
      fetchUrl(`${base()}/chain/1/final.png`, opts({ maxRedirects: 0 })),
      'origin',
      /more than 0 times/,
    );
    expect(seen).toHaveLength(1);
  });

  it('a redirect to an address outside the allowlist is refused before connecting (127.0.0.1/32 vs 127.0.0.2)', async () => {
    const f = await expectFailure(
      fetchUrl(`${base()}/to-refused`, opts({ policy: { allow: ONLY_127_0_0_1 } })),
      'refused',
      /127\.0\.0\.2/,
    );
    expect(f.message).toMatch(/loopback/);
    expect(seen.map((s) => s.path)).toEqual(['/to-refused']);
  });

  it.each([
    ['/to-ftp', /ftp/],
    ['/to-file', /file/],
  ])('a redirect to a non-http scheme (%s) is refused', async (path, scheme) => {
    const f = await expectFailure(fetchUrl(`${base()}${path}`, opts()), 'refused', /Only http and https/);
    expect(f.message).toMatch(scheme);
    expect(seen).toHaveLength(1);
  });

  it('a redirect to an invalid URL is an origin failure', async () => {
    await expectFailure(fetchUrl(`${base()}/to-invalid`, opts()), 'origin', /invalid URL/);
  });

  it('a 3xx without Location is an origin failure naming the status', async () => {
    await expectFailure(fetchUrl(`${base()}/redirect-no-location`, opts()), 'origin', /302/);
  });

  it('a redirect to a closed port names the refused connection', async () => {
    await expectFailure(fetchUrl(`${base()}/to-closed-port`, opts()), 'origin', /refused the connection/);
  });
});

// ---------------------------------------------------------------------------------------------------
// Basic auth
// ---------------------------------------------------------------------------------------------------

describe('fetchUrl: basic auth', () => {
  const creds = `${encodeURIComponent(USER)}:${encodeURIComponent(PASS)}`;

  it('without credentials the origin answers 401 → origin failure naming 401', async () => {
    await expectFailure(fetchUrl(`${base()}/auth/img.png`, opts()), 'origin', /401/);
  });

  it('sends the URL credentials (percent-decoded) as Authorization: Basic', async () => {
    const got = await fetchUrl(`http://${creds}@127.0.0.1:${port}/auth/img.png`, opts());
    expect(got.data.equals(png)).toBe(true);
    expect(got.filename).toBe('img.png');
    expect(seen[0]!.authorization).toBe(GOOD_AUTH);
  });

  it('wrong credentials → 401', async () => {
    await expectFailure(
      fetchUrl(`http://alice:wrong@127.0.0.1:${port}/auth/img.png`, opts()),
      'origin',
      /401/,
    );
    expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from('alice:wrong').toString('base64')}`);
  });

  it('keeps the credentials on a same-origin redirect', async () => {
    const got = await fetchUrl(`http://${creds}@127.0.0.1:${port}/auth/to-same`, opts());
    expect(got.data.equals(png)).toBe(true);
    expect(seen.map((s) => [s.path, s.authorization])).toEqual([
      ['/auth/to-same', GOOD_AUTH],
      ['/auth/img.png', GOOD_AUTH],
    ]);
  });

  it('does NOT send the credentials after a redirect to another origin (127.0.0.1 → localhost)', async () => {
    const got = await fetchUrl(
      `http://${creds}@127.0.0.1:${port}/auth/to-localhost`,
      opts({ policy: { allow: LOOPBACK_BOTH } }),
    );
    expect(got.data.equals(png)).toBe(true);
    expect(got.filename).toBe('leak.png');
    expect(seen).toHaveLength(2);
    expect(seen[0]!.authorization).toBe(GOOD_AUTH);
    expect(seen[1]!.path).toBe('/echo/leak.png');
    expect(seen[1]!.host).toBe(`localhost:${port}`);
    expect(seen[1]!.authorization, 'credentials leaked to another origin').toBeUndefined();
  });

  it('does not send the credentials to the other origin when it redirects back either', async () => {
    await fetchUrl(
      `http://${creds}@127.0.0.1:${port}/auth/to-localhost-and-back`,
      opts({ policy: { allow: LOOPBACK_BOTH } }),
    );
    expect(seen.map((s) => s.path)).toEqual(['/auth/to-localhost-and-back', '/bounce', '/echo/back.png']);
    expect(seen[1]!.authorization, 'credentials leaked to another origin').toBeUndefined();
  });

  it('a different port on the same host is another origin too', async () => {
    const got = await fetchUrl(`http://${creds}@127.0.0.1:${port}/auth/to-other-port`, opts());
    expect(got.data.equals(png)).toBe(true);
    expect(seen.map((s) => [s.via, s.path])).toEqual([
      ['127.0.0.1', '/auth/to-other-port'],
      ['other-port', '/echo/other.png'],
    ]);
    expect(seen[1]!.authorization, 'credentials leaked to another port').toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------
// Size cap, statuses, timeouts
// ---------------------------------------------------------------------------------------------------

describe('fetchUrl: size cap', () => {
  it('a body without Content-Length over maxBytes is cut while streaming (too-large)', async () => {
    const started = Date.now();
    const f = await expectFailure(
      fetchUrl(`${base()}/big-chunked`, opts({ maxBytes: 100_000 })),
      'too-large',
      /larger than 100000 bytes/,
    );
    expect(f.message).toBeTruthy();
    expect(Date.now() - started).toBeLessThan(4000);
    // The origin sees its response closed: the client stopped reading instead of draining 200 MB.
    for (let i = 0; i < 100 && !bigClosed; i++) await sleep(20);
    expect(bigClosed, 'the origin connection was never closed').not.toBeNull();
    expect(bigClosed!.written).toBeLessThan(200 * 1024 * 1024);
  });

  it('a declared Content-Length over maxBytes is refused before reading the body', async () => {
    const started = Date.now();
    await expectFailure(
      fetchUrl(`${base()}/big-declared`, opts({ maxBytes: 100_000 })),
      'too-large',
      /larger than 100000 bytes/,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('one byte over the cap is too large (declared and streamed)', async () => {
    await expectFailure(fetchUrl(`${base()}/img.png`, opts({ maxBytes: png.length - 1 })), 'too-large');
    await expectFailure(fetchUrl(`${base()}/chunked.png`, opts({ maxBytes: png.length - 1 })), 'too-large');
  });
});

describe('fetchUrl: origin statuses', () => {
  it.each([[404], [500], [403], [401], [502]])(
    'HTTP %i → origin failure naming the status',
    async (status) => {
      await expectFailure(
        fetchUrl(`${base()}/status/${status}`, opts()),
        'origin',
        new RegExp(`HTTP ${status}`),
      );
    },
  );
});

describe('fetchUrl: timeouts', () => {
  it('an origin that never answers hits the total timeout', async () => {
    const started = Date.now();
    await expectFailure(fetchUrl(`${base()}/slow`, opts({ totalTimeoutMs: 300 })), 'origin', /too long/);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3000);
  });

  it('an origin that stalls mid-body hits the total timeout', async () => {
    const started = Date.now();
    await expectFailure(
      fetchUrl(`${base()}/stall-body`, opts({ totalTimeoutMs: 300 })),
      'origin',
      /too long/,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('the total timeout covers the whole redirect chain', async () => {
    // 5 hops of 150 ms each: every hop is quick, the chain is not.
    await expectFailure(
      fetchUrl(`${base()}/slow-chain/5`, opts({ totalTimeoutMs: 400 })),
      'origin',
      /too long/,
    );
    expect(seen.length).toBeLessThan(6);
  });

  // A real connect timeout needs a peer that drops SYNs, which loopback does not do. Instead the
  // connect phase is stalled safely in the lookup: the fake resolver never answers, so no packet is
  // ever sent; the connect timer (armed at request creation, cleared on connect) must fire.
  it('connect timeout: a stalled connect phase (fake resolver that never answers) fails after connectTimeoutMs', async () => {
    const started = Date.now();
    const f = await expectFailure(
      fetchUrl(
        `http://hang.test:${port}/x`,
        opts({ connectTimeoutMs: 200, totalTimeoutMs: 5000, resolve: fakeResolver({ 'hang.test': 'hang' }) }),
      ),
      'origin',
    );
    const took = Date.now() - started;
    expect(f.message).toMatch(/Connecting to hang\.test:\d+ timed out/);
    expect(took).toBeLessThan(2000);
    expect(seen).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------------
// Address guard at the fetch level (no request may reach the origin)
// ---------------------------------------------------------------------------------------------------

describe('fetchUrl: refused targets never reach the origin', () => {
  const literalForms = () => [
    `http://127.0.0.1:${port}/x`,
    `http://2130706433:${port}/x`,
    `http://0x7f000001:${port}/x`,
    `http://0177.0.0.1:${port}/x`,
    `http://127.1:${port}/x`,
    `http://127.0.0.1.:${port}/x`,
    `http://[::1]:${port}/x`,
    `http://[::ffff:127.0.0.1]:${port}/x`,
    `http://[0:0:0:0:0:ffff:7f00:1]:${port}/x`,
    `http://0:${port}/x`,
    `http://[::]:${port}/x`,
    `http://localhost:${port}/x`,
    `http://LOCALHOST:${port}/x`,
  ];

  it('without an allowlist every loopback form is refused (kind refused) and the origin sees no request', async () => {
    for (const url of literalForms()) {
      const f = await failure(fetchUrl(url, opts({ policy: { allow: [] } })));
      expect(f.kind, `${url}: ${f.message}`).toBe('refused');
      expect(f.message, url).toMatch(/not allowed/);
      expect(f.message, url).toMatch(/loopback|unspecified/);
    }
    await sleep(50);
    expect(seen, 'a refused URL reached the origin').toEqual([]);
  });

  it('the message names the address and its range', async () => {
    const f = await expectFailure(
      fetchUrl(`http://2130706433:${port}/x`, opts({ policy: { allow: [] } })),
      'refused',
    );
    expect(f.message).toBe("The URL's address is not allowed: 127.0.0.1 is in the loopback range");
    const l = await expectFailure(
      fetchUrl(`http://localhost:${port}/x`, opts({ policy: { allow: [] } })),
      'refused',
    );
    expect(l.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1) is in the loopback range/);
  });

  it('an allowlist of 127.0.0.1/32 admits 127.0.0.1 but not 127.0.0.2 or ::1', async () => {
    const policy = { allow: ONLY_127_0_0_1 };
    expect((await fetchUrl(`http://127.0.0.1:${port}/x`, opts({ policy }))).data.equals(png)).toBe(true);
    await expectFailure(
      fetchUrl(`http://127.0.0.2:${port}/x`, opts({ policy })),
      'refused',
      /127\.0\.0\.2 is in the loopback range/,
    );
    await expectFailure(
      fetchUrl(`http://[::1]:${port}/x`, opts({ policy })),
      'refused',
      /::1 is in the loopback range/,
    );
    expect(seen).toHaveLength(1);
  });

  it('an IPv4 allowlist entry admits the IPv4-mapped URL form [::ffff:127.0.0.1]', async () => {
    const got = await fetchUrl(
      `http://[::ffff:127.0.0.1]:${port}/x`,
      opts({ policy: { allow: ONLY_127_0_0_1 } }),
    );
    expect(got.data.equals(png)).toBe(true);
  });

  it('::1/128 allowlisted admits [::1] (when the host has IPv6 loopback)', async (ctx) => {
    if (!v6Server) ctx.skip();
    const got = await fetchUrl(
      `http://[::1]:${port}/x`,
      opts({ policy: { allow: parseAllowlist(['::1/128']) } }),
    );
    expect(got.data.equals(png)).toBe(true);
    expect(seen[0]!.via).toBe('::1');
  });

  it.each([
    ['ftp', () => `ftp://127.0.0.1:${port}/x`],
    ['file', () => 'file:///etc/passwd'],
    ['javascript', () => 'javascript:alert(1)'],
    ['data', () => 'data:image/png;base64,iVBORw0KGgo='],
    ['gopher', () => `gopher://127.0.0.1:${port}/x`],
    ['ws', () => `ws://127.0.0.1:${port}/x`],
  ])('scheme %s is refused', async (scheme, url) => {
    const f = await expectFailure(fetchUrl(url(), opts()), 'refused', /Only http and https/);
    expect(f.message).toContain(scheme);
    expect(seen).toEqual([]);
  });

  it.each([['not a url'], [''], ['http://'], ['//127.0.0.1/x'], ['/x']])(
    'an invalid URL %j is refused',
    async (raw) => {
      await expectFailure(fetchUrl(raw, opts()), 'refused', /not a valid URL/);
    },
  );

  it('https to a refused address is refused before any TLS', async () => {
    await expectFailure(
      fetchUrl(`https://127.0.0.1:${port}/x`, opts({ policy: { allow: [] } })),
      'refused',
      /loopback/,
    );
    await sleep(20);
    expect(seen).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------
// DNS answers (fake resolver: loopback answers only, no DNS traffic)
// ---------------------------------------------------------------------------------------------------

describe('fetchUrl: DNS answers are checked by the connecting lookup', () => {
  it('connects to the address the (fake) resolver returns when it is allowed', async () => {
    const calls: string[] = [];
    const got = await fetchUrl(
      `http://good.test:${port}/files/named.png`,
      opts({
        policy: { allow: ONLY_127_0_0_1 },
        resolve: fakeResolver({ 'good.test': ['127.0.0.1'] }, calls),
      }),
    );
    expect(got.data.equals(png)).toBe(true);
    expect(got.filename).toBe('named.png');
    expect(calls).toEqual(['good.test']);
    expect(seen[0]!.host).toBe(`good.test:${port}`);
  });

  it('refuses a name whose answer contains ANY refused address (rebinding to 127.0.0.2)', async () => {
    const resolve = fakeResolver({ 'rebind.test': ['127.0.0.1', '127.0.0.2'], 'only2.test': ['127.0.0.2'] });
    const policy = { allow: ONLY_127_0_0_1 };
    const f = await expectFailure(
      fetchUrl(`http://rebind.test:${port}/x`, opts({ policy, resolve })),
      'refused',
      /rebind\.test resolves to 127\.0\.0\.2 is in the loopback range/,
    );
    expect(f.message).toMatch(/not allowed/);
    await expectFailure(
      fetchUrl(`http://only2.test:${port}/x`, opts({ policy, resolve })),
      'refused',
      /only2\.test/,
    );
    expect(seen).toEqual([]);
  });

  it('checks each connection afresh: a resolver that changes its answer is caught on the next hop', async () => {
    let n = 0;
    const calls: string[] = [];
    const flipping = ((hostname: string, _o: unknown, cb: (e: Error | null, a?: LookupAddress[]) => void) => {
      calls.push(hostname);
      n++;
      setImmediate(() => cb(null, [{ address: n === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }]));
    }) as unknown as LookupFn;
    // /chain/1 on flip.test: the first connection resolves to 127.0.0.1, the redirect's to 127.0.0.2.
    await expectFailure(
      fetchUrl(
        `http://flip.test:${port}/chain/1/f.png`,
        opts({ policy: { allow: ONLY_127_0_0_1 }, resolve: flipping }),
      ),
      'refused',
      /127\.0\.0\.2/,
    );
    expect(calls).toEqual(['flip.test', 'flip.test']);
    expect(seen.map((s) => s.path)).toEqual(['/chain/1/f.png']);
  });

  it('a redirect to a name resolving to a refused address is refused', async () => {
    const resolve = fakeResolver({ 'evil.test': ['127.0.0.2'] });
    await expectFailure(
      fetchUrl(`${base()}/to-named?host=evil.test`, opts({ policy: { allow: ONLY_127_0_0_1 }, resolve })),
      'refused',
      /evil\.test resolves to 127\.0\.0\.2/,
    );
    expect(seen.map((s) => s.path)).toEqual(['/to-named?host=evil.test']);
  });

  it('a name that does not resolve → origin failure naming the host', async () => {
    await expectFailure(
      fetchUrl(`http://nowhere.test:${port}/x`, opts({ resolve: fakeResolver({}) })),
      'origin',
      /nowhere\.test could not be resolved/,
    );
  });
});
