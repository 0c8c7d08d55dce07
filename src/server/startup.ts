/**
 * Start-up failures that name their cause: the setting, the path or host, and what to do, as one line
 * with an exit code of its own (the CLI prints `pictor: <message>` and exits with `exitCode`).
 *
 * | code | cause |
 * |---|---|
 * | 2 | a setting does not parse (ConfigError) or bad command-line use |
 * | 3 | PICTOR_DATA_DIR cannot be created or written |
 * | 4 | DATABASE_URL does not answer, refuses the connection or the login |
 * | 5 | S3_BUCKET cannot be reached, does not exist or refuses the credentials |
 * | 6 | PORT (or PICTOR_DELIVERY_PORT, PICTOR_METRICS_PORT) is in use or not allowed |
 */
import { closeSync, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';

export const EXIT = { config: 2, dataDir: 3, database: 4, s3: 5, port: 6 } as const;

export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const codeOf = (e: unknown): string | undefined =>
  (e as { code?: unknown } | null)?.code as string | undefined;

/**
 * Creates PICTOR_DATA_DIR when missing and checks that a file can be created in it. Hand-written
 * rather than `mkdirSync(dir, { recursive: true })`: on Node 20 that call loops forever when a parent
 * refuses with ENOENT (for instance under /proc), so each missing level is created on its own. The
 * probe creates an empty file, which needs no free blocks: a full disk still starts and serves reads.
 */
export function prepareDataDir(dir: string): void {
  const fail = (what: string, e: unknown): never => {
    throw new StartupError(
      `PICTOR_DATA_DIR=${dir}: ${what} (${codeOf(e) ?? String(e)}); point PICTOR_DATA_DIR at a writable directory on a local disk, or create it and give the pictor user write access`,
      EXIT.dataDir,
      { cause: e },
    );
  };
  const missing: string[] = [];
  let existing = dir;
  for (;;) {
    try {
      const st = statSync(existing);
      if (!st.isDirectory()) fail(`${existing} is not a directory`, 'ENOTDIR');
      break;
    } catch (e) {
      if (codeOf(e) !== 'ENOENT') {
        if (e instanceof StartupError) throw e;
        fail(`cannot read ${existing}`, e);
      }
      const parent = dirname(existing);
      if (parent === existing) fail('no existing parent directory', e);
      missing.unshift(existing);
      existing = parent;
    }
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (e) {
      if (codeOf(e) !== 'EEXIST') fail(`cannot create ${level}`, e);
    }
  }
  const probe = join(dir, `.pictor-write-probe-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    fail('cannot create files in it', e);
  }
}

/** postgres://user:***@host:port/db — the URL with its password hidden. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** Wraps a failure to reach PostgreSQL at start. */
export function databaseError(url: string, e: unknown): StartupError {
  let where = redactUrl(url);
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || '5432'}`;
  } catch {
    /* keep the redacted form */
  }
  const code = codeOf(e);
  const why =
    code === 'ECONNREFUSED'
      ? 'the connection was refused'
      : code === '28P01' || code === '28000'
        ? 'the login was refused'
        : code === '3D000'
          ? 'the database does not exist'
          : /timeout/i.test(String((e as Error)?.message))
            ? 'no answer within 5 s'
            : ((e as Error)?.message ?? String(e));
  return new StartupError(
    `DATABASE_URL (${where}): cannot use PostgreSQL: ${why}; check that PostgreSQL runs and listens there and that the user, password and database in DATABASE_URL are right`,
    EXIT.database,
    { cause: e },
  );
}

/** Wraps a failed S3 probe at start. */
export function s3Error(bucket: string, endpoint: string | undefined, e: unknown): StartupError {
  const err = e as {
    name?: string;
    Code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const name = err?.Code ?? err?.name ?? codeOf(e) ?? 'Error';
  const status = err?.$metadata?.httpStatusCode;
  const why =
    name === 'NoSuchBucket' || status === 404
      ? 'the bucket does not exist'
      : name === 'InvalidAccessKeyId' ||
          name === 'SignatureDoesNotMatch' ||
          name === 'AccessDenied' ||
          status === 403
        ? `the credentials were refused (${name})`
        : `no answer (${codeOf(e) ?? codeOf((e as { cause?: unknown })?.cause) ?? name})`;
  return new StartupError(
    `S3_BUCKET=${bucket} at ${endpoint ?? 'AWS'}: ${why}; check S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (the bucket must exist)`,
    EXIT.s3,
    { cause: e },
  );
}

/** Wraps a listen failure. */
export function listenError(setting: string, host: string, port: number, e: unknown): StartupError {
  const code = codeOf(e);
  const why =
    code === 'EADDRINUSE'
      ? 'the port is in use'
      : code === 'EACCES'
        ? 'the port needs privileges'
        : code === 'EADDRNOTAVAIL'
          ? 'the address is not on this machine'
          : (code ?? String(e));
  return new StartupError(
    `${setting}=${port} on ${host}: cannot listen: ${why}; stop the other process or choose another ${setting}`,
    EXIT.port,
    { cause: e },
  );
}

/** `server.listen(port, host)`, resolving to the bound port; a failure is the StartupError of `setting`. */
export function listen(server: Server, port: number, host: string, setting: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: unknown) => reject(listenError(setting, host, port, e));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}
