/**
 * Cross-process single-flight for renditions (PICTOR_PROCESSES > 1): one lock file per rendition digest
 * in `<PICTOR_DATA_DIR>/cache/locks`, created with O_EXCL (`wx`), holding the holder's pid.
 *
 * Written by hand rather than with proper-lockfile: that library answers "locked" or retries on a
 * timer, while here a waiter must learn as soon as the holder is done, and a holder killed mid-transform
 * (kill -9, OOM) must be recognised at once by its pid rather than after a refresh interval. The whole
 * protocol is create-exclusive, poll the file's existence, and take over when the pid is gone or the
 * lock is older than the longest a transform may take.
 *
 * A stale lock taken over by two processes at the same moment can, at worst, let both produce the
 * rendition: one extra transform, never a wrong answer (renditions are immutable under their digest).
 * On a full disk no lock can be written, and delivery goes on without one, with the same worst case.
 */
import { mkdirSync } from 'node:fs';
import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isStorageFull } from '../core/backend-errors.js';
import type { FlightLock } from '../delivery/cache.js';

export interface FileFlightLockOptions {
  /** Directory of the lock files (created if missing). */
  dir: string;
  /** A lock older than this is stale whatever its pid (the holder is stuck). */
  staleMs: number;
  /** How often a waiter looks whether the lock is gone. */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function createFileFlightLock(opts: FileFlightLockOptions): FlightLock {
  mkdirSync(opts.dir, { recursive: true });
  const pollMs = opts.pollMs ?? 10;
  const pathOf = (digest: string) => join(opts.dir, `${digest}.lock`);

  /** Whether the lock at `path` is held by a live holder; false when it is missing or stale. */
  async function held(path: string): Promise<boolean> {
    let mtimeMs: number;
    let pid: number;
    try {
      [{ mtimeMs }, pid] = await Promise.all([stat(path), readFile(path, 'utf8').then((t) => Number(t))]);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    // A lock file caught between its creation and its pid being written reads as empty: held.
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - mtimeMs < opts.staleMs;
    return alive(pid) && Date.now() - mtimeMs < opts.staleMs;
  }

  return {
    async tryAcquire(digest) {
      const path = pathOf(digest);
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await writeFile(path, String(process.pid), { flag: 'wx' });
          let released = false;
          return async () => {
            if (released) return;
            released = true;
            await unlink(path).catch(() => undefined);
          };
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (isStorageFull(e)) {
            // A full disk (the lock's inode made, its pid refused a block): go on without the lock
            // across processes, as the rendition's disk copy will. At worst another process makes the
            // same rendition too; refusing the delivery would turn a full disk into 503s for reads.
            // The file `wx` may have made is ours (it did not exist before), half-written: remove it.
            await unlink(path).catch(() => undefined);
            return async () => undefined;
          }
          if (code === 'ENOENT') {
            mkdirSync(opts.dir, { recursive: true });
            continue;
          }
          if (code !== 'EEXIST') throw e;
          if (await held(path)) return null;
          // Dead or stuck holder: take the lock over.
          await unlink(path).catch(() => undefined);
        }
      }
      return null;
    },
    async released(digest) {
      const path = pathOf(digest);
      while (await held(path)) await sleep(pollMs);
    },
  };
}
