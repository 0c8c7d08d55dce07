/** Runs `pictor <args>` (`node --import tsx src/cli/main.ts`) to completion in a child process. */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, ms (reported in failures, never asserted as a timing). */
  ms: number;
}

/**
 * Environment of a child: this process's without any Pictor, S3 or database settings (no DATABASE_URL
 * or PICTOR_TEST_BACKEND leaking in), plus `env`.
 */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(PICTOR_|S3_|AWS_|DATABASE_URL$|PORT$|HOST$|LOG_LEVEL$)/.test(k)) continue;
    base[k] = v;
  }
  // Servers a child starts run one process unless PICTOR_TEST_PROCESSES says otherwise.
  return { ...base, PICTOR_PROCESSES: process.env.PICTOR_TEST_PROCESSES || '1', ...env };
}

export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: childEnv({ LOG_LEVEL: 'silent', ...env }),
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`pictor ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}
