/**
 * Child processes of the harness (Pictor, nginx, the bare node server, ipx): spawned, tracked and
 * always ended by their own pid, never by name. RSS is read from /proc/<pid>/status.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { sleep } from './util.js';

const children = new Set<ChildProcess>();

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Resolves when the process exits, with its code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether it has exited. */
  readonly dead: boolean;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnChild(cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (proc.pid === undefined) throw new Error(`could not start ${cmd}`);
  children.add(proc);
  let out = '';
  let err = '';
  // Keep only the tail: a chatty child must not grow the harness's memory.
  proc.stdout?.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-64_000)));
  proc.stderr?.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-64_000)));
  let dead = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      dead = true;
      children.delete(proc);
      resolve({ code, signal });
    });
  });
  const pid = proc.pid;
  return {
    proc,
    pid,
    exited,
    get dead() {
      return dead;
    },
    stdout: () => out,
    stderr: () => err,
    async stop(graceMs = 15_000) {
      if (!dead) proc.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!dead) proc.kill('SIGKILL');
      }, graceMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}

/** Kills every child still running (on exit or on a fatal error). */
export function killAll(): void {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Waits for `probe` to resolve true, polling every 50 ms for at most `timeoutMs`. */
export async function waitFor(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  child?: Child,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child?.dead) throw new Error(`${what}: the process exited: ${child.stderr().slice(-2000)}`);
    if (await probe().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(
    `${what}: not ready after ${timeoutMs} ms${child ? `: ${child.stderr().slice(-2000)}` : ''}`,
  );
}

/** VmRSS and VmHWM (peak) of a process, in bytes; undefined when it is gone. */
export function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system, every thread) a process has used so far, in ms, from /proc/<pid>/stat;
 * undefined when it is gone. Clock ticks are 100 per second on Linux (USER_HZ).
 */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU time of the whole machine so far, in ms (from /proc/stat; busy excludes idle and iowait). */
/**
 * CPU time (user + system, ms) of a process and its live children (nginx's workers under its master;
 * a clustered Pictor's workers under its primary), read from /proc.
 */
export function treeCpuTimeMs(pid: number): number | undefined {
  const own = cpuTimeMs(pid);
  if (own === undefined) return undefined;
  let sum = own;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) sum += cpuTimeMs(Number(entry)) ?? 0;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return sum;
}

/** The pids of a process's live children (a clustered Pictor's workers under its primary), from /proc. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return out;
}

export function machineCpuMs(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: ((total - idle) * 1000) / 100, total: (total * 1000) / 100 };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/** CPU time of this process and of its reaped children (wrk, nginx, the servers once stopped), in ms. */
export function ownCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/**
 * CPU time (ms) used so far by the processes named `comm` (e.g. the PostgreSQL server, a system service
 * the list benchmark drives): every live one, plus the reaped children of the top one (its cutime/cstime).
 */
export function serviceCpuMs(comm: string): number {
  let total = 0;
  const procs: Array<{ pid: number; ppid: number; f: string[] }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== comm) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.push({ pid: Number(name), ppid: Number(f[1]), f });
    } catch {
      // gone meanwhile
    }
  }
  const pids = new Set(procs.map((p) => p.pid));
  for (const p of procs) {
    total += Number(p.f[11]) + Number(p.f[12]);
    if (!pids.has(p.ppid)) total += Number(p.f[13]) + Number(p.f[14]);
  }
  return (total * 1000) / 100;
}

/** Samples a process's RSS every `everyMs` until stopped; reports the peak seen and the kernel's VmHWM. */
export function rssSampler(
  pid: number,
  everyMs = 50,
): { stop(): { peakRss: number; hwm: number; samples: number } } {
  let peak = 0;
  let hwm = 0;
  let samples = 0;
  const tick = () => {
    const m = memoryOf(pid);
    if (!m) return;
    samples++;
    if (m.rss > peak) peak = m.rss;
    if (m.hwm > hwm) hwm = m.hwm;
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      tick();
      clearInterval(timer);
      return { peakRss: peak, hwm, samples };
    },
  };
}

/**
 * The machine's inter-processor interrupts so far, summed over CPUs, from /proc/interrupts:
 * `CAL` (function-call IPIs, which carry remote wake-ups on x86) plus `RES` (rescheduling IPIs).
 * Undefined where the file or the rows are missing (not Linux, another architecture).
 */
export function wakeupIpis(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/interrupts', 'utf8');
  } catch {
    return undefined;
  }
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^\s*(CAL|RES):\s+([\d\s]+)/.exec(line);
    if (!m) continue;
    found = true;
    for (const n of m[2]!.trim().split(/\s+/)) sum += Number(n);
  }
  return found ? sum : undefined;
}
