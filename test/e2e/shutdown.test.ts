/**
 * Graceful shutdown of a real `pictor serve`: an upload whose body is still arriving when SIGTERM
 * comes completes (200, then listed), /readyz on an open connection answers 503 at once, and the
 * process exits 0. With PICTOR_SHUTDOWN_TIMEOUT=1 the same slow upload is cut: the process says how
 * many requests it cut and exits 1.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, ROOT } from '../helpers/cli.js';
import { makeImage } from '../helpers/images.js';
import { TEST_ACCOUNT_ID, TEST_TOKEN } from '../helpers/server.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function serve(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pictor-shutdown-'));
  dirs.push(dataDir);
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT,
    env: childEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      PICTOR_DATA_DIR: dataDir,
      PICTOR_ACCOUNT_ID: TEST_ACCOUNT_ID,
      PICTOR_API_TOKEN: TEST_TOKEN,
      PICTOR_ACCESS_LOG: 'off',
      ...env,
    }),
  });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout.resume();
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pictor serve did not start in 60 s:\n${err}`)), 60_000);
    proc.stderr.on('data', () => {
      const m = /serving the Cloudflare Images API at (http:\/\/\S+)\/client\/v4/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  return { proc, url, exited, stderr: () => err };
}

/** Starts a multipart upload and sends the first half of its body; `finish()` sends the rest. */
async function slowUpload(url: string, id: string) {
  const boundary = 'pictorshutdownboundary';
  const image = await makeImage('jpeg', 400, 300);
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\n${id}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
    ),
    image,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${url}/client/v4/accounts/${TEST_ACCOUNT_ID}/images/v1`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_TOKEN}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': body.length,
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.write(body.subarray(0, body.length >> 1));
    finishers.set(id, () => req.end(body.subarray(body.length >> 1)));
  });
  // Wait until the server has the request (its first bytes are on the wire).
  await new Promise((r) => setTimeout(r, 500));
  return {
    answer: answer.catch((e: Error) => ({ status: -1, body: e.message })),
    finish: () => finishers.get(id)!(),
  };
}
const finishers = new Map<string, () => void>();

describe('graceful shutdown', { timeout: 180_000 }, () => {
  it('an upload in flight at SIGTERM completes and the process exits 0', async () => {
    const node = await serve({});
    const up = await slowUpload(node.url, 'slow-one');
    node.proc.kill('SIGTERM');
    await new Promise<void>((r) => {
      const check = () =>
        /shutting down, 1 request\(s\) in flight/.test(node.stderr()) ? r() : setTimeout(check, 20);
      check();
    });
    up.finish();
    const answer = await up.answer;
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ success: true, result: { id: 'slow-one' } });
    expect(await node.exited, node.stderr()).toBe(0);
    expect(node.stderr()).toContain('pictor: stopped cleanly');
  });

  it('past PICTOR_SHUTDOWN_TIMEOUT the upload is cut, the count is logged and the exit code is 1', async () => {
    const node = await serve({ PICTOR_SHUTDOWN_TIMEOUT: '1' });
    const up = await slowUpload(node.url, 'slow-two');
    node.proc.kill('SIGTERM');
    expect(await node.exited, node.stderr()).toBe(1);
    expect(node.stderr()).toContain('PICTOR_SHUTDOWN_TIMEOUT (1 s) cut 1 request(s) in flight');
    expect((await up.answer).status).not.toBe(200);
  });
});
