/**
 * The SVG attack corpus (test/fixtures/svg-attacks/, sources in its README) in a real browser: every
 * document is uploaded (the refused ones counted), then each stored one is loaded from its delivery URL
 * in Chromium directly, and inside `<object>` and `<img>` on a page of Pictor's own origin (the
 * dashboard's case). A page hook records script execution (an init script in every frame replaces
 * alert/confirm/prompt/print, which every attack's script calls, and dialogs are counted too), every
 * request a page makes beyond the harness page and the document itself is recorded, and the loopback
 * beacon server that every attack URL names logs its hits.
 *
 * Pass 1 strips the Content-Security-Policy from every delivery response (page.route), so the
 * sanitiser alone must hold: 0 scripts, 0 requests, 0 beacon hits. Pass 2 keeps the header. A control
 * first serves a few documents unsanitised, to show that this harness sees what they do.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { accountHashOf, cdnUrl, startDeliveryServer, type DeliveryServer } from '../helpers/delivery.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'svg-attacks');
const INDEX = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as Record<string, string>;
const PAGES = 6;
/** Time given to begin="0s" animations, load events and lazy fetches after `load` (a wait, never asserted). */
const SETTLE_MS = 120;

interface Doc {
  file: string;
  family: string;
  text: string;
  /** Delivery URL when stored. */
  url?: string;
  outcome?: 'refused' | 'sanitised' | 'unchanged';
}

interface PassResult {
  scripts: string[];
  requests: string[];
  beacon: string[];
}

/** Runs `fn` over `items` with `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (item: T, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, w) => {
      while (next < items.length) await fn(items[next++]!, w);
    }),
  );
}

const HOOK = `(() => {
  const mark = (how) => {
    const entry = how + ' in ' + location.href;
    (window.__pwned ||= []).push(entry);
    try { (window.top.__pwned ||= []).push(entry); } catch {}
  };
  for (const k of ['alert', 'confirm', 'prompt', 'print']) {
    try { Object.defineProperty(window, k, { value: () => mark(k), writable: false, configurable: false }); } catch {}
  }
})();`;

describe('SVG attack corpus in Chromium', () => {
  let srv: DeliveryServer;
  let beacon: Server;
  let harness: Server;
  let beaconPort: number;
  let harnessUrl: string;
  let browser: Browser;
  const hits: string[] = [];
  const docs: Doc[] = [];
  /** What the harness origin serves under /doc/<file>: the stored document without its CSP, or the raw file. */
  let docMode: 'strip-csp' | 'raw' = 'strip-csp';
  const batches = new Map<string, string[]>();

  beforeAll(async () => {
    if (!hasChromium()) throw new Error('Chromium is missing: run scripts/ensure-chromium.sh');
    beacon = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' }).end('beacon');
    });
    await new Promise<void>((r) => beacon.listen(0, '127.0.0.1', r));
    beaconPort = (beacon.address() as AddressInfo).port;
    srv = await startDeliveryServer();
    // The harness origin: pages that embed documents, and the stored documents with the CSP taken off
    // (fetched from Pictor's delivery URL and served with every other header), or raw for the control.
    harness = createServer((req, res) => {
      void (async () => {
        const url = req.url ?? '/';
        if (url.startsWith('/batch/')) {
          const html = (batches.get(url.slice(7)) ?? []).map(
            (d) =>
              `<object data="${d}" type="image/svg+xml" width="200" height="200"></object><img src="${d}" width="200" height="200">`,
          );
          res
            .writeHead(200, { 'content-type': 'text/html' })
            .end(`<!doctype html><title>harness</title>${html.join('\n')}`);
          return;
        }
        const doc = url.startsWith('/doc/')
          ? docs.find((d) => d.file === decodeURIComponent(url.slice(5)))
          : undefined;
        if (!doc) return void res.writeHead(404).end();
        if (docMode === 'raw')
          return void res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(doc.text);
        const upstream = await fetch(doc.url!);
        const headers = Object.fromEntries(
          [...upstream.headers].filter(
            ([k]) =>
              k !== 'content-security-policy' &&
              k !== 'content-length' &&
              k !== 'transfer-encoding' &&
              k !== 'connection' &&
              k !== 'keep-alive',
          ),
        );
        res.writeHead(upstream.status, headers).end(Buffer.from(await upstream.arrayBuffer()));
      })().catch((e: Error) => res.writeHead(500).end(e.message));
    });
    await new Promise<void>((r) => harness.listen(0, '127.0.0.1', r));
    harnessUrl = `http://127.0.0.1:${(harness.address() as AddressInfo).port}`;
    browser = await launchChromium();
    for (const [file, family] of Object.entries(INDEX)) {
      docs.push({
        file,
        family,
        text: readFileSync(join(DIR, file), 'utf8').replaceAll('BEACON_PORT', String(beaconPort)),
      });
    }
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
    await new Promise((r) => beacon?.close(r));
    await new Promise((r) => harness?.close(r));
  });

  /** Loads `url`, pokes it (hover and click in the middle), waits, and collects the hook's marks from every frame. */
  async function visit(page: Page, url: string, poke: boolean): Promise<string[]> {
    await page.goto(url, { waitUntil: 'load', timeout: 20_000 }).catch((e: Error) => {
      // A navigation away (a link the click followed) shows in the request log instead.
      if (!/interrupted|aborted|ERR_ABORTED/.test(e.message)) throw e;
    });
    if (poke) {
      await page.mouse.move(100, 100);
      await page.mouse.click(100, 100);
    }
    await page.waitForTimeout(SETTLE_MS);
    const marks: string[] = [];
    for (const frame of page.frames()) {
      marks.push(
        ...(await frame
          .evaluate(() => (window as unknown as { __pwned?: string[] }).__pwned ?? [])
          .catch(() => [])),
      );
    }
    return marks;
  }

  /**
   * One pass: every document loaded directly (`direct(doc)`) and, fifteen to a page, inside <object>
   * and <img> on a harness page (`embedded(doc)`). Anything requested beyond those URLs is recorded.
   */
  async function runPass(
    list: Doc[],
    direct: (d: Doc) => string,
    embedded: (d: Doc) => string,
  ): Promise<PassResult> {
    const result: PassResult = { scripts: [], requests: [], beacon: [] };
    const before = hits.length;
    const context: BrowserContext = await browser.newContext({
      serviceWorkers: 'block',
      viewport: { width: 400, height: 300 },
    });
    await context.addInitScript(HOOK);
    const groups: Doc[][] = [];
    for (let i = 0; i < list.length; i += 15) groups.push(list.slice(i, i + 15));
    const allowed = new Set<string>(['about:blank', ...list.map(direct), ...list.map(embedded)]);
    groups.forEach((g, i) => {
      const key = `${batches.size}-${i}`;
      batches.set(key, g.map(embedded));
      allowed.add(`${harnessUrl}/batch/${key}`);
      (g as Doc[] & { key?: string }).key = key;
    });
    context.on('request', (req) => {
      const u = req.url();
      if (u.startsWith('data:') || allowed.has(u)) return;
      let from = 'unknown frame';
      try {
        from = req.frame().url();
      } catch {
        // a request without a frame (a worker): still counted
      }
      result.requests.push(`${from} → ${u}`);
    });
    const pages = await Promise.all(Array.from({ length: PAGES }, () => context.newPage()));
    context.on('page', (p) => {
      if (!pages.includes(p)) result.requests.push(`popup → ${p.url()}`);
    });
    for (const p of pages) {
      p.on('dialog', (d) => {
        result.scripts.push(`dialog ${d.type()} in ${p.url()}`);
        void d.dismiss().catch(() => undefined);
      });
    }
    await pool(list, PAGES, async (doc, w) => {
      result.scripts.push(...(await visit(pages[w]!, direct(doc), true)));
    });
    await pool(groups, PAGES, async (g, w) => {
      result.scripts.push(
        ...(await visit(pages[w]!, `${harnessUrl}/batch/${(g as Doc[] & { key?: string }).key}`, false)),
      );
    });
    await context.close();
    result.beacon = hits.slice(before);
    return result;
  }

  const viaHarness = (d: Doc): string => `${harnessUrl}/doc/${encodeURIComponent(d.file)}`;

  it('uploads every document: each one is refused or stored, never a server error', async () => {
    expect(docs.length).toBeGreaterThanOrEqual(150);
    let hash: string | undefined;
    await pool(docs, 6, async (doc) => {
      const id = doc.file.replace(/\.svg$/, '');
      const form = new FormData();
      form.append('file', new Blob([doc.text], { type: 'image/svg+xml' }), doc.file);
      form.append('id', id);
      const res = await fetch(`${srv.images}/v1`, {
        method: 'POST',
        headers: { authorization: `Bearer ${srv.token}` },
        body: form,
      });
      const env = (await res.json()) as {
        success: boolean;
        result: { variants: string[] };
        errors: Array<{ code: number }>;
      };
      if (!env.success) {
        expect([res.status, env.errors[0]?.code], doc.file).toEqual([415, 5455]);
        doc.outcome = 'refused';
        return;
      }
      hash ??= accountHashOf(env.result as Parameters<typeof accountHashOf>[0]);
      const blob = await fetch(`${srv.images}/v1/${encodeURIComponent(id)}/blob`, {
        headers: { authorization: `Bearer ${srv.token}` },
      });
      doc.outcome = Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(doc.text))
        ? 'unchanged'
        : 'sanitised';
      doc.url = id;
    });
    for (const d of docs) if (d.url !== undefined) d.url = cdnUrl(srv, hash!, d.url, 'public');
    const count = (o: Doc['outcome']): number => docs.filter((d) => d.outcome === o).length;
    console.log(
      `SVG attack corpus: ${docs.length} documents, ${count('refused')} refused, ${count('sanitised')} sanitised, ${count('unchanged')} unchanged`,
    );
    expect(count('refused') + count('sanitised') + count('unchanged')).toBe(docs.length);
  }, 120_000);

  it('control: served unsanitised, the harness sees the attacks run and fetch', async () => {
    const pick = [
      'script-01-plain.svg',
      'event-01-svg-onload.svg',
      'css-11-style-fill-url.svg',
      'newline-01-style-raw-lf-dq-url.svg',
      'newline-02-style-raw-lf-dq-import.svg',
      'newline-36-attr-ref-10-dq.svg',
    ];
    const control = docs.filter((d) => pick.includes(d.file));
    expect(control.map((d) => d.file).sort()).toEqual([...pick].sort());
    docMode = 'raw';
    const r = await runPass(control, viaHarness, viaHarness).finally(() => {
      docMode = 'strip-csp';
    });
    const seen = pick.filter((f) =>
      [...r.scripts, ...r.requests].some((s) => s.includes(encodeURIComponent(f))),
    );
    expect(seen.sort(), JSON.stringify(r, null, 1)).toEqual([...pick].sort());
    expect(r.scripts.some((s) => s.startsWith('alert in') && s.includes('script-01-plain'))).toBe(true);
    expect(r.beacon.length).toBeGreaterThan(0);
  }, 60_000);

  it('with the CSP header removed: no document runs a script or makes a request', async () => {
    const stored = docs.filter((d) => d.url !== undefined);
    expect(stored.length).toBeGreaterThan(0);
    const r = await runPass(stored, viaHarness, viaHarness);
    console.log(
      `CSP removed: ${stored.length} documents × (direct, <object>, <img>): ${r.scripts.length} script executions, ${r.requests.length} requests, ${r.beacon.length} beacon hits`,
    );
    expect(r.scripts).toEqual([]);
    expect(r.requests).toEqual([]);
    expect(r.beacon).toEqual([]);
  }, 300_000);

  it('with the CSP header on (defence in depth): no script, no request', async () => {
    const stored = docs.filter((d) => d.url !== undefined);
    const r = await runPass(
      stored,
      (d) => d.url!,
      (d) => d.url!,
    );
    console.log(
      `CSP on: ${stored.length} documents: ${r.scripts.length} script executions, ${r.requests.length} requests, ${r.beacon.length} beacon hits`,
    );
    expect(r.scripts).toEqual([]);
    expect(r.requests).toEqual([]);
    expect(r.beacon).toEqual([]);
  }, 300_000);
});
