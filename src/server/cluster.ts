/**
 * PICTOR_PROCESSES > 1: the primary. It runs the migrations and the first-start bootstrap once, then
 * forks the workers (node:cluster, `worker.ts`), each a whole server on the same ports (the primary
 * accepts and hands connections round-robin). It tells every worker how many are up (for /readyz),
 * restarts a crashed worker with exponential backoff (100 ms doubling per crash in the last minute, at
 * most 30 s: never a fork loop), serves PICTOR_METRICS_PORT with every worker's series added up
 * (prom-client's AggregatorRegistry.aggregate), and on shutdown has every worker drain within
 * PICTOR_SHUTDOWN_TIMEOUT.
 *
 * What the workers share, and how they stay consistent, is described in docs/operations.md
 * ("Processes"): the SQLite file (WAL; `PRAGMA data_version` ends memoised resolutions on another
 * process's commit), the blob and cache directories, lock files for cross-process single-flight, and
 * PICTOR_CACHE_MEMORY_MB and PICTOR_WORKERS divided among them.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { AggregatorRegistry, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { Config } from '../config/index.js';
import { hostPort, packageVersion, printBanner } from './banner.js';
import { bootstrap } from './bootstrap.js';
import { compose, openSqlite } from './compose.js';
import type { RunningServer, StartOptions } from './main.js';
import { createMetricsServer } from './metrics.js';
import { withHeapFlags } from './node-flags.js';
import { listen, listenError, prepareDataDir, StartupError } from './startup.js';

/** Primary → worker. */
export type ToWorker =
  | { pictor: 'config'; config: Config }
  | { pictor: 'workers'; up: number; wanted: number }
  | { pictor: 'drain' }
  | { pictor: 'count'; id: number }
  | { pictor: 'metrics'; id: number }
  | { pictor: 'shutdown'; timeoutMs: number };

/** Worker → primary. */
export type FromWorker =
  | { pictor: 'hello' }
  | { pictor: 'ready'; url: string; deliveryUrl: string | undefined; publicUrl: string }
  | { pictor: 'failed'; message: string; exitCode: number }
  | { pictor: 'count'; id: number; inFlight: number }
  | { pictor: 'metrics'; id: number; metrics: MetricObjectWithValues<MetricValue<string>>[] }
  | { pictor: 'closed'; cut: number };

/** Restart delay after a crash: 100 ms, doubling for each crash in the last minute, at most 30 s. */
export function restartDelay(crashesInLastMinute: number): number {
  return Math.min(30_000, 100 * 2 ** Math.max(0, crashesInLastMinute - 1));
}

/** A port the OS picks for `host`, free a moment ago. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', (e) => reject(listenError('PORT', host, 0, e)));
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function startCluster(given: Config, opts: StartOptions = {}): Promise<RunningServer> {
  // PORT=0 (or PICTOR_DELIVERY_PORT=0): the primary picks the port before forking. node:cluster keys
  // the shared listening sockets by address and port as configured, so with 0 two primaries in one
  // process (test suites) would share one socket, and workers restarted after all had died would get
  // a new port.
  const config: Config = {
    ...given,
    port: given.port === 0 ? await freePort(given.host) : given.port,
    deliveryPort: given.deliveryPort === 0 ? await freePort(given.host) : given.deliveryPort,
  };
  const logger = opts.logStream
    ? pino({ level: config.logLevel }, opts.logStream)
    : pino({ level: config.logLevel });
  prepareDataDir(config.dataDir);

  const wanted = config.processes;
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const exec = fileURLToPath(new URL(`./worker${ext}`, import.meta.url));
  // From source (tests, `npm run dev`) the worker needs tsx's loader; built, the primary's own flags.
  // Either way with the heap flags (node-flags.ts), even when the primary was started without them.
  const execArgv = withHeapFlags(ext === '.ts' ? ['--import', 'tsx'] : process.execArgv);
  const live = new Map<number, Worker>();
  const ready = new Set<number>();
  const crashes: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let shuttingDown = false;
  let started = false;
  let nextId = 0;
  const replies = new Map<number, (m: FromWorker) => void>();

  // A worker that is going away (killed, crashed) can still look connected for a moment: the write
  // to its channel then fails with EPIPE, reported to the callback (without one, as an 'error' event
  // on the worker, which would end the primary). Either way its exit is handled below.
  const send = (w: Worker, m: ToWorker) => {
    if (w.isConnected()) {
      try {
        w.send(m, undefined, undefined, () => undefined);
      } catch {
        // Thrown when the channel closed between the check and the write.
      }
    }
  };
  const broadcast = () => {
    for (const w of live.values()) send(w, { pictor: 'workers', up: ready.size, wanted });
  };

  let startupDone!: (e?: StartupError) => void;
  const startup = new Promise<StartupError | undefined>((r) => (startupDone = r));
  let first: Extract<FromWorker, { pictor: 'ready' }> | undefined;

  function fork(): Worker {
    cluster.setupPrimary({ exec, execArgv, args: [], silent: opts.logStream !== undefined });
    const w = cluster.fork();
    live.set(w.id, w);
    if (opts.logStream && w.process.stdout && w.process.stderr) {
      // Whole lines, so two workers' log lines never interleave mid-line.
      const stream = opts.logStream;
      createInterface({ input: w.process.stdout }).on('line', (line) => stream.write(`${line}\n`));
      w.process.stderr.pipe(process.stderr, { end: false });
    }
    let failure: StartupError | undefined;
    // A failed send or kill on a dying worker: logged, never fatal to the primary (the exit follows).
    w.on('error', (e: Error) => logger.warn({ pid: w.process.pid, err: e }, 'worker process error'));
    w.on('message', (m: FromWorker) => {
      switch (m.pictor) {
        case 'hello':
          // Sent once the worker listens for messages ('online' comes before its code has loaded);
          // the config goes once the migrations and bootstrap are done. The same config (and ports)
          // for a replacement, which so joins the same listening sockets.
          void booted.then(
            () => send(w, { pictor: 'config', config }),
            () => undefined,
          );
          break;
        case 'ready':
          ready.add(w.id);
          first ??= m;
          broadcast();
          if (!started && ready.size === wanted) startupDone();
          break;
        case 'failed':
          failure = new StartupError(m.message, m.exitCode);
          break;
        case 'count':
        case 'metrics':
          replies.get(m.id)?.(m);
          break;
        case 'closed':
          w.emit('pictor:closed', m.cut);
          break;
      }
    });
    w.on('exit', (code, signal) => {
      live.delete(w.id);
      ready.delete(w.id);
      broadcast();
      if (shuttingDown) return;
      if (!started) {
        startupDone(
          failure ?? new StartupError(`a worker process exited (${signal ?? code}) while starting`, 1),
        );
        return;
      }
      const now = Date.now();
      crashes.push(now);
      while (crashes[0]! < now - 60_000) crashes.shift();
      const delay = restartDelay(crashes.length);
      logger.error({ pid: w.process.pid, code, signal, restartInMs: delay }, 'worker process exited');
      process.stderr.write(
        `pictor: worker ${w.process.pid} exited (${signal ?? code}); starting another in ${delay} ms\n`,
      );
      const t = setTimeout(() => {
        timers.delete(t);
        if (!shuttingDown) fork();
      }, delay);
      timers.add(t);
    });
    return w;
  }

  /** Asks every serving worker and collects the answers (a worker that does not answer within 5 s is left out). */
  function ask<T extends FromWorker>(make: (id: number) => ToWorker): Promise<T[]> {
    const targets = [...live.values()].filter((w) => ready.has(w.id));
    return Promise.all(
      targets.map(
        (w) =>
          new Promise<T | undefined>((resolve) => {
            const id = nextId++;
            const timer = setTimeout(() => {
              replies.delete(id);
              resolve(undefined);
            }, 5000);
            replies.set(id, (m) => {
              clearTimeout(timer);
              replies.delete(id);
              resolve(m as T);
            });
            send(w, make(id));
          }),
      ),
    ).then((all) => all.filter((x) => x !== undefined) as T[]);
  }

  // The workers load their code while the primary runs the migrations and the first-start bootstrap,
  // once, before any worker opens the database (they are told their config only then).
  let bootDone!: () => void;
  let bootFailed!: (e: unknown) => void;
  const booted = new Promise<void>((resolve, reject) => {
    bootDone = resolve;
    bootFailed = reject;
  });
  booted.catch(() => undefined); // The failure is thrown below; workers waiting on it are killed.
  for (let i = 0; i < wanted; i++) fork();
  let boot: Awaited<ReturnType<typeof bootstrap>>;
  try {
    const composition = await compose(config);
    try {
      boot = await bootstrap(config, composition.api.accounts);
    } finally {
      await composition.close();
    }
  } catch (e) {
    shuttingDown = true;
    bootFailed(e);
    for (const w of live.values()) w.process.kill('SIGKILL');
    throw e;
  }
  bootDone();
  const failed = await startup;
  if (failed || !first) {
    shuttingDown = true;
    for (const w of live.values()) w.process.kill('SIGKILL');
    throw failed ?? new StartupError('no worker process started', 1);
  }
  started = true;

  const servers: Server[] = [];
  let metricsUrl: string | undefined;
  if (config.metricsPort !== undefined) {
    const collect = async () => {
      const answers = await ask<Extract<FromWorker, { pictor: 'metrics' }>>((id) => ({
        pictor: 'metrics',
        id,
      }));
      return AggregatorRegistry.aggregate(answers.map((a) => a.metrics)).metrics();
    };
    const server = createMetricsServer(collect, Registry.PROMETHEUS_CONTENT_TYPE, logger);
    servers.push(server);
    try {
      metricsUrl = hostPort(
        config.host,
        await listen(server, config.metricsPort, config.host, 'PICTOR_METRICS_PORT'),
      );
    } catch (e) {
      shuttingDown = true;
      for (const w of live.values()) w.process.kill('SIGKILL');
      throw e;
    }
  }
  const base = first.url;
  if (!opts.quiet) {
    printBanner({
      config,
      boot,
      version: packageVersion(),
      base,
      publicUrl: first.publicUrl,
      deliveryUrl: first.deliveryUrl,
      metricsUrl,
      processes: wanted,
    });
  }

  let lastCount = 0;
  let closing: Promise<number> | undefined;
  return {
    url: base,
    deliveryUrl: first.deliveryUrl,
    metricsUrl,
    inFlight: () => lastCount,
    async countInFlight() {
      const answers = await ask<Extract<FromWorker, { pictor: 'count' }>>((id) => ({ pictor: 'count', id }));
      lastCount = answers.reduce((n, a) => n + a.inFlight, 0);
      return lastCount;
    },
    workers: () => [...live.values()].filter((w) => ready.has(w.id)).map((w) => w.process.pid!),
    drain() {
      // Shutdown has begun: a worker that exits from now on (it may have had the signal itself) is
      // not replaced.
      shuttingDown = true;
      for (const t of timers) clearTimeout(t);
      for (const w of live.values()) send(w, { pictor: 'drain' });
    },
    close(timeoutMs = config.shutdownTimeout * 1000) {
      closing ??= (async () => {
        shuttingDown = true;
        for (const t of timers) clearTimeout(t);
        for (const s of servers) s.close();
        const workers = [...live.values()];
        const cuts = await Promise.all(
          workers.map(
            (w) =>
              new Promise<number>((resolve) => {
                let cut = 0;
                w.once('pictor:closed', (n: number) => (cut = n));
                // A worker that outlives its drain by 10 s is killed (its requests count as cut).
                const hard = setTimeout(() => {
                  cut = Math.max(cut, 1);
                  w.process.kill('SIGKILL');
                }, timeoutMs + 10_000);
                w.once('exit', () => {
                  clearTimeout(hard);
                  resolve(cut);
                });
                if (w.process.exitCode !== null || w.process.signalCode !== null) {
                  clearTimeout(hard);
                  resolve(0);
                }
                send(w, { pictor: 'shutdown', timeoutMs });
              }),
          ),
        );
        // Workers closing at once may each find the other still open, and none removes SQLite's -wal
        // and -shm files (only the last connection does): open and close once more, alone, so the
        // node stops as a single process would (no WAL left to replay, nothing to create on a full disk).
        if (!config.databaseUrl) {
          try {
            await openSqlite(config).close();
          } catch (e) {
            logger.warn({ err: e }, 'could not tidy the SQLite files after the workers stopped');
          }
        }
        return cuts.reduce((a, b) => a + b, 0);
      })();
      return closing;
    },
    registry: undefined,
  };
}
