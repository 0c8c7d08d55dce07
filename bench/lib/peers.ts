/** The baselines that run as servers: nginx (Debian), the bare node:http server, ipx (npm). */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { http } from './http.js';
import { ROOT } from './pictor.js';
import { spawnChild, waitFor, type Child } from './procs.js';
import { freePort } from './util.js';

export interface PeerServer {
  url: string;
  child: Child;
  stop(): Promise<unknown>;
}

/** The path of a Debian tool, or undefined. */
export function which(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin'])) {
    const p = join(dir, tool);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

export function versionOf(tool: string, args: string[]): string | undefined {
  const path = which(tool);
  if (!path) return undefined;
  const r = spawnSync(path, args, { encoding: 'utf8', timeout: 5000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`
    .split('\n')
    .find((l) => l.trim())
    ?.trim();
}

/**
 * nginx as a child of the harness: its own prefix and config in `dir`, serving `dir/html` on a free
 * 127.0.0.1 port, in the foreground (`daemon off`), so no system service is involved.
 *
 * `workers: 'auto'` is nginx as its users run it: a master process and `worker_processes auto`, one
 * worker per core (Debian's packaged nginx.conf says `auto`). `workers: 1` is the old single-process
 * form (`master_process off; worker_processes 1`), comparable with one Node event loop.
 */
export async function startNginx(
  dir: string,
  opts: { workers: 'auto' | 1 } = { workers: 'auto' },
): Promise<PeerServer> {
  const nginx = which('nginx');
  if (!nginx) throw new Error('nginx is not installed (bench/setup.sh installs it)');
  const port = await freePort();
  for (const d of ['html', 'logs', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  const conf = `
daemon off;
${opts.workers === 1 ? 'master_process off;\nworker_processes 1;' : 'worker_processes auto;'}
${process.getuid?.() === 0 ? "# Workers keep the harness's user (root here), so they can read its private temp dir.\nuser root;" : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 75s;
  keepalive_requests 10000000;
  open_file_cache max=1000 inactive=60s;
  client_body_temp_path ${dir}/tmp;
  # The one file served is the JPEG rendition, at Pictor's delivery path (which has no extension).
  types { image/jpeg jpg; }
  default_type image/jpeg;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/html;
    location / { add_header cache-control "public, max-age=172800"; }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawnChild(nginx, [
    '-p',
    dir,
    '-c',
    join(dir, 'nginx.conf'),
    '-e',
    join(dir, 'logs/error.log'),
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await http(`${url}/`)).status > 0, 10_000, 'nginx start', child);
  return { url, child, stop: () => child.stop(5000) };
}

/** A TypeScript peer (bench/peers/*.ts) under node --import tsx; it prints {"port": N}. */
async function startTsPeer(file: string, args: string[], nodeArgs: string[] = []): Promise<PeerServer> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'NODE_OPTIONS') env[k] = v;
  const child = spawnChild(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', join(ROOT, 'bench/peers', file), ...args],
    { cwd: ROOT, env },
  );
  let port = 0;
  await waitFor(
    async () => {
      const m = /\{"port":(\d+)\}/.exec(child.stdout());
      if (m) port = Number(m[1]);
      return port > 0;
    },
    30_000,
    `${file} start`,
    child,
  );
  return { url: `http://127.0.0.1:${port}`, child, stop: () => child.stop(5000) };
}

/** `pictorHeaders`: send the nine headers of a cached Pictor answer instead of three (bare-node.ts). */
export const startBareNode = (file: string, nodeArgs: string[] = [], pictorHeaders = false) =>
  startTsPeer('bare-node.ts', pictorHeaders ? [file, 'pictor-headers'] : [file], nodeArgs);
export const startIpx = (dir: string, nodeArgs: string[] = []) =>
  startTsPeer('ipx-server.ts', [dir], nodeArgs);
