/**
 * Start-up failures of `pictor serve` name their cause on one stderr line, with an exit code each
 * (see src/server/startup.ts): an impossible or unwritable PICTOR_DATA_DIR (3), a refusing or silent
 * DATABASE_URL (4), a missing S3 bucket or refused credentials (5), a port in use (6). Every backend
 * is on loopback: a closed port, a TCP server that never answers, s3rver.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDataDir, StartupError } from '../../src/server/startup.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { refusingPort } from '../helpers/ports.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';

const dataDir = mkdtempSync(join(tmpdir(), 'pictor-start-'));
let s3: TestS3;
const sockets: Socket[] = [];
const servers: Server[] = [];

async function listening(onConnection?: (s: Socket) => void): Promise<{ port: number; server: Server }> {
  const server = createServer((s) => {
    sockets.push(s);
    onConnection?.(s);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, server };
}

beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
  await s3.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const serve = (env: Record<string, string>): Promise<CliResult> =>
  runCli(['serve'], { PORT: '0', HOST: '127.0.0.1', PICTOR_DATA_DIR: dataDir, ...env }, 60_000);

/** One line on stderr, starting `pictor: `. */
function oneLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^pictor: /);
  return lines[0]!;
}

describe('start-up errors name their cause', { timeout: 120_000 }, () => {
  it('PICTOR_DATA_DIR under /proc fails at once instead of spinning (in process: no hang)', () => {
    expect(() => prepareDataDir('/proc/pictor/data')).toThrow(StartupError);
    expect(() => prepareDataDir('/proc/pictor/data')).toThrow(
      /PICTOR_DATA_DIR=\/proc\/pictor\/data: cannot create \/proc\/pictor/,
    );
  });

  it('PICTOR_DATA_DIR=/proc/pictor → exit 3 with the path and what to do', async () => {
    const r = await serve({ PICTOR_DATA_DIR: '/proc/pictor' });
    expect(r.code, r.stderr).toBe(3);
    const line = oneLine(r);
    expect(line).toContain('PICTOR_DATA_DIR=/proc/pictor');
    expect(line).toContain('point PICTOR_DATA_DIR at a writable directory');
    process.stdout.write(
      `startup-errors: /proc/pictor exited ${r.code} after ${r.ms} ms (spawn and tsx included)\n`,
    );
  });

  it.each(['/proc/pictor', '/proc/self/x', '/proc/self/x/y'])(
    'PICTOR_DATA_DIR=%s: `pictor serve` exits 3 at once (before a 10 s watchdog), one line naming it',
    async (dir) => {
      // The watchdog (runCli's timeout) fails the test if the child is still running after 10 s; the
      // time itself is reported, not asserted (spawn and tsx loading dominate it on a busy machine).
      const r = await runCli(['serve'], { PORT: '0', HOST: '127.0.0.1', PICTOR_DATA_DIR: dir }, 10_000);
      expect(r.code, r.stderr).toBe(3);
      const line = oneLine(r);
      expect(line).toContain(`PICTOR_DATA_DIR=${dir}: cannot create /proc/`);
      expect(line).toContain('point PICTOR_DATA_DIR at a writable directory');
      const floor = await runCli(['--version'], {}, 10_000);
      process.stdout.write(
        `startup-errors: PICTOR_DATA_DIR=${dir} exited ${r.code} after ${r.ms} ms; \`pictor --version\` took ${floor.ms} ms\n`,
      );
    },
  );

  it('PICTOR_DATA_DIR under a regular file → exit 3', async () => {
    const r = await serve({ PICTOR_DATA_DIR: '/etc/hostname/pictor' });
    expect(r.code, r.stderr).toBe(3);
    expect(oneLine(r)).toMatch(/PICTOR_DATA_DIR=\/etc\/hostname\/pictor: cannot read .*\(ENOTDIR\)/);
  });

  it('DATABASE_URL refusing the connection → exit 4 naming the host and port', async () => {
    const port = await refusingPort();
    const r = await serve({ DATABASE_URL: `postgres://pictor:hunter2secret@127.0.0.1:${port}/pictor` });
    expect(r.code, r.stderr).toBe(4);
    const line = oneLine(r);
    expect(line).toContain(`DATABASE_URL (127.0.0.1:${port})`);
    expect(line).toContain('the connection was refused');
    expect(line).not.toContain('hunter2secret');
  });

  it('DATABASE_URL that accepts and never answers → exit 4 after the connect timeout', async () => {
    const { port } = await listening();
    const r = await serve({ DATABASE_URL: `postgres://pictor@127.0.0.1:${port}/pictor` });
    expect(r.code, r.stderr).toBe(4);
    expect(oneLine(r)).toContain(
      `DATABASE_URL (127.0.0.1:${port}): cannot use PostgreSQL: no answer within 5 s`,
    );
  });

  it('S3_BUCKET that does not exist → exit 5', async () => {
    const r = await serve({
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: 'no-such-bucket',
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    });
    expect(r.code, r.stderr).toBe(5);
    expect(oneLine(r)).toContain(`S3_BUCKET=no-such-bucket at ${s3.endpoint}: the bucket does not exist`);
  });

  it('S3 credentials refused → exit 5', async () => {
    const r = await serve({
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: s3.bucket,
      S3_ACCESS_KEY_ID: 'WRONGKEY',
      S3_SECRET_ACCESS_KEY: 'wrong-secret',
      S3_FORCE_PATH_STYLE: 'true',
    });
    expect(r.code, r.stderr).toBe(5);
    const line = oneLine(r);
    expect(line).toContain('the credentials were refused');
    expect(line).not.toContain('wrong-secret');
  });

  it('PORT in use → exit 6 naming PORT', async () => {
    const { port } = await listening();
    const r = await serve({ PORT: String(port) });
    expect(r.code, r.stderr).toBe(6);
    expect(oneLine(r)).toContain(`PORT=${port} on 127.0.0.1: cannot listen: the port is in use`);
  });
});
