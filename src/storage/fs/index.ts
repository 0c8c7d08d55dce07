/**
 * BlobStore on local files. Writes go to a temporary file in the same directory, are fsynced and then
 * renamed over the target, so a reader sees the whole object or nothing. Keys are confined to `root`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Dirent, mkdirSync, statSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { BlobObject, BlobStore, ByteRange } from '../types.js';

export interface FsBlobConfig {
  /** Directory that holds the blobs; created when missing. */
  root: string;
}

const TMP_SUFFIX = '.tmp-';

/**
 * Creates a file-backed blob store, failing fast when `root` cannot be a directory.
 * @example const blobs = createFsBlobStore({ root: './data/blobs' });
 */
export function createFsBlobStore(config: FsBlobConfig): BlobStore {
  if (!config.root) throw new Error('createFsBlobStore: root is required');
  const root = resolve(config.root);
  mkdirSync(root, { recursive: true });
  if (!statSync(root).isDirectory()) throw new Error(`createFsBlobStore: ${root} is not a directory`);
  return new FsBlobStore(root);
}

class FsBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  /** The root is still a directory we can read. */
  async check(): Promise<void> {
    if (!(await stat(this.root)).isDirectory()) throw new Error(`${this.root} is not a directory`);
  }

  /** Resolves a key inside root, refusing empty keys and anything that would escape it. */
  private pathOf(key: string): string {
    if (
      typeof key !== 'string' ||
      key.length === 0 ||
      key.includes('\0') ||
      isAbsolute(key) ||
      key.includes('\\')
    ) {
      throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
    }
    const full = resolve(this.root, key);
    const rel = relative(this.root, full);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || key.split('/').includes('..')) {
      throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
    }
    if (full.includes(TMP_SUFFIX)) throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
    return full;
  }

  async put(key: string, data: Buffer): Promise<void> {
    const target = this.pathOf(key);
    const tmp = `${target}${TMP_SUFFIX}${randomBytes(6).toString('hex')}`;
    // Any failure (ENOSPC half-way through the write, a failed fsync or rename) removes the temporary
    // file: on a full disk its blocks are the last free ones.
    try {
      // The directory is made only when the open says it is missing: one thread-pool job less per put.
      const fh = await open(tmp, 'w').catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
        await mkdir(dirname(target), { recursive: true });
        return open(tmp, 'w');
      });
      try {
        // One positional write for the whole buffer (FileHandle.writeFile issues a thread-pool job per
        // 512 KiB); the loop covers a short write.
        for (let done = 0; done < data.length; ) {
          const { bytesWritten } = await fh.write(data, done, data.length - done, done);
          done += bytesWritten;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async get(
    key: string,
    opts: { range?: ByteRange; into?: (size: number) => Buffer } = {},
  ): Promise<BlobObject | null> {
    const path = this.pathOf(key);
    // One open handle for size and bytes, so a concurrent rename or delete cannot mix versions.
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') return null;
      throw e;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) return null;
      const start = opts.range ? opts.range.start : 0;
      const last = opts.range ? Math.min(opts.range.end, st.size - 1) : st.size - 1;
      const length = Math.max(0, last - start + 1);
      // Into the caller's (pooled) buffer when given: a view of exactly this blob's bytes.
      const body = opts.into ? opts.into(length).subarray(0, length) : Buffer.allocUnsafe(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await fh.read(body, read, length - read, start + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      // Blobs are immutable under random keys; size + mtime identify a version well enough for an etag.
      const etag = createHash('sha1')
        .update(`${key}:${st.size}:${st.mtimeMs}:${st.ino}`)
        .digest('hex')
        .slice(0, 20);
      return { body: body.subarray(0, read), size: st.size, etag: `"${etag}"`, lastModified: st.mtime };
    } finally {
      await fh.close();
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async *list(): AsyncIterable<string> {
    const walk = async function* (dir: string, root: string): AsyncIterable<string> {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) yield* walk(full, root);
        else if (e.isFile() && !e.name.includes(TMP_SUFFIX)) yield relative(root, full).split(sep).join('/');
      }
    };
    yield* walk(this.root, this.root);
  }

  async sweepIncomplete(before: Date): Promise<number> {
    let removed = 0;
    const walk = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.name.includes(TMP_SUFFIX)) {
          const st = await stat(full).catch(() => null);
          if (st && st.mtime < before) {
            await rm(full, { force: true });
            removed++;
          }
        }
      }
    };
    await walk(this.root);
    return removed;
  }

  async close(): Promise<void> {}
}
