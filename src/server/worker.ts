/**
 * A worker process of a node with PICTOR_PROCESSES > 1 (forked by cluster.ts): waits for its config
 * from the primary, starts a whole server on the shared ports, answers the primary's questions (in
 * flight, metrics) and drains on the primary's word, or on its own SIGTERM/SIGINT (systemd signals the
 * whole control group; Ctrl-C the whole process group). If the primary dies, node:cluster ends the
 * worker at once.
 */
import cluster from 'node:cluster';
import type { Config } from '../config/index.js';
import type { FromWorker, ToWorker } from './cluster.js';
import { startServer, type RunningServer } from './main.js';

if (!cluster.isWorker) {
  process.stderr.write('pictor: server/worker is started by the primary process (PICTOR_PROCESSES > 1)\n');
  process.exit(2);
}

let processes = { up: 0, wanted: 1 };
let server: RunningServer | undefined;
let config: Config | undefined;
let stopping = false;

function send(m: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    try {
      process.send!(m, undefined, {}, () => resolve());
    } catch {
      resolve();
    }
  });
}

async function shutdown(timeoutMs: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (!server) process.exit(0);
  const cut = await server.close(timeoutMs);
  await send({ pictor: 'closed', cut });
  process.exit(cut > 0 ? 1 : 0);
}

async function start(c: Config): Promise<void> {
  config = c;
  try {
    server = await startServer(c, { quiet: true, worker: { processes: () => processes } });
  } catch (e) {
    const exitCode = (e as { exitCode?: unknown }).exitCode;
    const code = typeof exitCode === 'number' ? exitCode : 1;
    await send({ pictor: 'failed', message: e instanceof Error ? e.message : String(e), exitCode: code });
    process.exit(code);
  }
  const url = new URL(server.url);
  const host = url.hostname === '0.0.0.0' || url.hostname === '[::]' ? '127.0.0.1' : url.hostname;
  await send({
    pictor: 'ready',
    url: server.url,
    deliveryUrl: server.deliveryUrl,
    publicUrl: c.publicUrl ?? `http://${host}:${url.port}`,
  });
}

process.on('message', (m: ToWorker) => {
  switch (m.pictor) {
    case 'config':
      void start(m.config);
      break;
    case 'workers':
      processes = { up: m.up, wanted: m.wanted };
      break;
    case 'drain':
      server?.drain();
      break;
    case 'count':
      void send({ pictor: 'count', id: m.id, inFlight: server?.inFlight() ?? 0 });
      break;
    case 'metrics':
      if (server?.registry)
        void server.registry
          .getMetricsAsJSON()
          .then((metrics) => send({ pictor: 'metrics', id: m.id, metrics }));
      break;
    case 'shutdown':
      void shutdown(m.timeoutMs);
      break;
  }
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => void shutdown((config?.shutdownTimeout ?? 30) * 1000));
}
void send({ pictor: 'hello' });
