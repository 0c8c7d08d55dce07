/**
 * Dashboard test harness: builds the dashboard with Vite (as `npm run build` does), starts a real server
 * (SQLite + local files) with a Read + Write and a read-only token, seeds images straight into the
 * store when a test needs thousands, and scans pages with axe-core.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { loadConfig } from '../../src/config/index.js';
import { compose } from '../../src/server/compose.js';
import { startServer } from '../../src/server/main.js';
import type { ImageRecord } from '../../src/core/types.js';
import { TEST_ACCOUNT_ID, TEST_PROCESSES, TEST_TOKEN } from './server.js';
import { makeImage } from './images.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

let built: Promise<void> | undefined;

/** Builds dist/dashboard once per test process, the same build `npm run build` runs. */
export function buildDashboard(): Promise<void> {
  built ??= import('vite').then(async ({ build }) => {
    await build({ configFile: join(ROOT, 'dashboard/vite.config.ts'), logLevel: 'error' });
  });
  return built;
}

export interface DashboardServer {
  url: string;
  dashboard: string;
  accountId: string;
  token: string;
  readToken: string;
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{
    status: number;
    body: { success: boolean; result: T; errors: Array<{ code: number; message: string }> };
  }>;
  close(): Promise<void>;
}

/** A server with the bootstrap token and a read-only one; `seed` images go straight into the store. */
export async function startDashboardServer(opts: { seed?: number } = {}): Promise<DashboardServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pictor-dashboard-'));
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    PICTOR_DATA_DIR: dataDir,
    PICTOR_ACCOUNT_ID: TEST_ACCOUNT_ID,
    PICTOR_API_TOKEN: TEST_TOKEN,
    LOG_LEVEL: 'silent',
  };
  const c = await compose(loadConfig({ PICTOR_PROCESSES: TEST_PROCESSES, ...env }));
  let readToken: string;
  try {
    await c.api.accounts.create({ id: TEST_ACCOUNT_ID });
    readToken = (
      await c.api.accounts.issueToken({
        accountIds: [TEST_ACCOUNT_ID],
        permissions: ['read'],
        label: 'read-only',
      })
    ).token;
    if (opts.seed) await seed(c.store, c.blobs, opts.seed);
  } finally {
    await c.close();
  }
  const server = await startServer(loadConfig({ PICTOR_PROCESSES: TEST_PROCESSES, ...env }), { quiet: true });
  const base = `${server.url}/client/v4/accounts/${TEST_ACCOUNT_ID}`;
  return {
    url: server.url,
    dashboard: `${server.url}/dashboard/`,
    accountId: TEST_ACCOUNT_ID,
    token: TEST_TOKEN,
    readToken,
    async api(method, path, body, token = TEST_TOKEN) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as never };
    },
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Many images sharing one tiny original: rows inserted directly, so 5,000 take a second, not minutes. */
async function seed(
  store: Awaited<ReturnType<typeof compose>>['store'],
  blobs: Awaited<ReturnType<typeof compose>>['blobs'],
  n: number,
): Promise<void> {
  const png = await makeImage('png', 16, 16);
  await blobs.put('originals/seed-original', png);
  const t0 = Date.now() - n * 1000;
  for (let i = 0; i < n; i++) {
    const row: ImageRecord = {
      accountId: TEST_ACCOUNT_ID,
      id: `seed-${String(i).padStart(5, '0')}`,
      filename: `seed-${i}.png`,
      meta: null,
      creator: null,
      requireSignedURLs: false,
      uploaded: t0 + i * 1000,
      blobKey: 'originals/seed-original',
      contentType: 'image/png',
      format: 'png',
      size: png.length,
      width: 16,
      height: 16,
      // Delivery fills the facts in on the first rendition (rows written before facts were stored).
      facts: null,
      draft: false,
      expiresAt: null,
      version: 1,
    };
    await store.insertImage(row);
  }
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown; failureSummary?: string }>;
}

/**
 * Runs axe-core in the page (evaluated through the DevTools protocol, which the page's CSP does not
 * govern) and answers the serious and critical violations.
 */
export async function axeSerious(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> };
      }
    ).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
