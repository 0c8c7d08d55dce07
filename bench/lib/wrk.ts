/** Runs wrk (Debian) against a loopback URL and parses its report. */
import { spawn } from 'node:child_process';
import { which } from './peers.js';

export interface WrkResult {
  requestsPerSec: number;
  transferPerSec: string;
  requests: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  socketErrors: string | undefined;
  raw: string;
}

function toMs(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

export async function runWrk(
  url: string,
  opts: { connections: number; threads: number; seconds: number; headers?: Record<string, string> },
): Promise<WrkResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`wrk must target 127.0.0.1: ${url}`);
  const wrk = which('wrk');
  if (!wrk) throw new Error('wrk is not installed (bench/setup.sh installs it)');
  const args = [
    '-t',
    String(opts.threads),
    '-c',
    String(opts.connections),
    '-d',
    `${opts.seconds}s`,
    '--timeout',
    '5s',
    '--latency',
  ];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const raw = await new Promise<string>((resolve, reject) => {
    const p = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), (opts.seconds + 20) * 1000);
    p.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`wrk exited with ${code}: ${out}`));
    });
  });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(raw);
  if (!rps) throw new Error(`wrk: no Requests/sec in\n${raw}`);
  const lat = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(raw);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  return {
    requestsPerSec: Number(rps[1]),
    transferPerSec: /Transfer\/sec:\s+(\S+)/.exec(raw)?.[1] ?? '',
    requests: Number(/(\d+) requests in/.exec(raw)?.[1] ?? NaN),
    latencyP50Ms: lat('50'),
    latencyP99Ms: lat('99'),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(raw)?.[1] ?? 0),
    socketErrors: /Socket errors:[^\n]*/.exec(raw)?.[0],
    raw,
  };
}
