/**
 * Test harness: a real Pictor server (SQLite + local files in a fresh temporary directory) on an
 * ephemeral loopback port, with its bootstrap account and token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { startServer } from '../../src/server/main.js';

export interface TestServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** http://127.0.0.1:<port>/client/v4 */
  apiBase: string;
  accountId: string;
  token: string;
  dataDir: string;
  close(): Promise<void>;
}

export const TEST_ACCOUNT_ID = '023e105f4ecef8ad9ca31a8372d0c353';
export const TEST_TOKEN = 'pictor-test-token-0123456789abcdefghij';

/** Starts a server; extra env entries override the defaults (e.g. PICTOR_IMAGE_ALLOWANCE). */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pictor-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    PICTOR_DATA_DIR: dataDir,
    PICTOR_ACCOUNT_ID: TEST_ACCOUNT_ID,
    PICTOR_API_TOKEN: TEST_TOKEN,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const server = await startServer(config, { quiet: true });
  return {
    url: server.url,
    apiBase: `${server.url}/client/v4`,
    accountId: config.accountId!,
    token: config.apiToken!,
    dataDir,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
