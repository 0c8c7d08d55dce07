/**
 * Change notifications between nodes on one PostgreSQL database. Every change that can alter a
 * delivery resolution runs `pg_notify('pictor_changes', <schema>)` inside its own transaction (see
 * `announce` in sql-metadata-store.ts), so a notification exists exactly when the change committed.
 * Each node keeps one dedicated connection that LISTENs; its state drives the node's memo:
 * - up (LISTEN acknowledged): memoisation on; every notification for our schema moves the generation;
 * - down (error, end, a failed heartbeat): memoisation off until LISTEN is acknowledged again, because
 *   notifications sent meanwhile are lost; then the memo starts empty.
 * A heartbeat query detects a connection that died silently (no FIN, e.g. a network partition).
 * Hand-written on pg's Client: pg-listen and similar wrappers add nothing we need beyond reconnecting.
 */
import pg from 'pg';

export const CHANGE_CHANNEL = 'pictor_changes';

export interface ChangeListenerOptions {
  connectionString: string;
  /** Only notifications whose payload is this schema count. */
  schema: string;
  onChange(): void;
  /** The connection is lost: notifications may be missed from now on. */
  onDown(): void;
  /** LISTEN is acknowledged on a (new) connection: notifications are received from now on. */
  onUp(): void;
  /** Heartbeat interval and timeout (ms); defaults 2000 and 2000. */
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  /** Reconnect delay after a failure (ms), doubling up to `maxRetryMs`; defaults 100 and 2000. */
  retryMs?: number;
  maxRetryMs?: number;
}

export interface ChangeListener {
  /** Whether LISTEN is active on a live connection. */
  readonly up: boolean;
  close(): Promise<void>;
}

/** The `application_name` of the listening connection (operators and tests find it in pg_stat_activity). */
export function listenerApplicationName(schema: string): string {
  return `pictor-listen ${schema}`.slice(0, 63);
}

/** Starts listening; resolves once the first attempt has finished (up or not: it keeps retrying). */
export async function listenForChanges(opts: ChangeListenerOptions): Promise<ChangeListener> {
  const heartbeatMs = opts.heartbeatMs ?? 2000;
  const heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? 2000;
  const retryMs = opts.retryMs ?? 100;
  const maxRetryMs = opts.maxRetryMs ?? 2000;
  let client: pg.Client | undefined;
  let up = false;
  let closed = false;
  let delay = retryMs;
  let retryTimer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;

  const down = (c: pg.Client) => {
    if (client !== c) return;
    client = undefined;
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = undefined;
    if (up) {
      up = false;
      opts.onDown();
    }
    c.end().catch(() => undefined);
    if (!closed) {
      retryTimer = setTimeout(() => void connect(), delay);
      retryTimer.unref();
      delay = Math.min(delay * 2, maxRetryMs);
    }
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({
      connectionString: opts.connectionString,
      application_name: listenerApplicationName(opts.schema),
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    client = c;
    c.on('error', () => down(c));
    c.on('end', () => down(c));
    c.on('notification', (n) => {
      if (n.channel === CHANGE_CHANNEL && n.payload === opts.schema) opts.onChange();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch {
      down(c);
      return;
    }
    if (client !== c || closed) return;
    delay = retryMs;
    up = true;
    opts.onUp();
    heartbeat = setInterval(() => {
      const timer = setTimeout(() => down(c), heartbeatTimeoutMs);
      timer.unref();
      c.query('SELECT 1').then(
        () => clearTimeout(timer),
        () => {
          clearTimeout(timer);
          down(c);
        },
      );
    }, heartbeatMs);
    heartbeat.unref();
  };

  await connect();
  return {
    get up() {
      return up;
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (heartbeat) clearInterval(heartbeat);
      const c = client;
      client = undefined;
      up = false;
      await c?.end().catch(() => undefined);
    },
  };
}
