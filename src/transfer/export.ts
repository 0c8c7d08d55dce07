/**
 * `pictor export`: every original of an account into a directory, with `manifest.jsonl` (one image
 * per line: id, filename, file, metadata, creator, requireSignedURLs, uploaded, sha256),
 * `variants.json`, `keys.json` and `account.json` (flexible variants, browser TTL, hash).
 * `pictor import <dir>` of the result restores the account.
 *
 * Originals live under `originals/<2 hex>/<sha256 of the id>.<ext>`: custom ids can be 1,024
 * characters and one id can be a path prefix of another, so ids cannot be file names.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { apiSource, sha256 } from './api-source.js';
import { runTransfer, type Outcome, type TransferReport } from './engine.js';
import { hashFromDeliveryUrl, metaOf, type ImageJson, type ImagesApi } from './images-api.js';
import { Journal } from './journal.js';
import type { Progress } from './progress.js';

export const MANIFEST = 'manifest.jsonl';

export interface ManifestLine {
  id: string;
  filename: string | null;
  /** Path of the original, relative to the export directory. */
  file: string;
  metadata: Record<string, unknown>;
  creator: string | null;
  requireSignedURLs: boolean;
  uploaded: string;
  sha256: string;
}

/** A file extension from the first bytes (the formats Images accepts). */
export function extensionOf(data: Buffer): string {
  const head = data.subarray(0, 16);
  if (head[0] === 0xff && head[1] === 0xd8) return 'jpg';
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (head.subarray(0, 3).toString('latin1') === 'GIF') return 'gif';
  if (head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP')
    return 'webp';
  if (head.subarray(4, 8).toString('latin1') === 'ftyp')
    return /avif|avis/.test(head.subarray(8, 12).toString('latin1')) ? 'avif' : 'heic';
  if (/^\s*</.test(data.subarray(0, 64).toString('utf8'))) return 'svg';
  return 'bin';
}

export function fileFor(id: string, data: Buffer): string {
  const h = createHash('sha256').update(id, 'utf8').digest('hex');
  return `originals/${h.slice(0, 2)}/${h}.${extensionOf(data)}`;
}

export interface ExportOptions {
  from: ImagesApi;
  dir: string;
  concurrency?: number;
  dryRun?: boolean;
  state?: string;
  progress?: Progress;
}

export async function exportAccount(opts: ExportOptions): Promise<TransferReport> {
  const { from, dir } = opts;
  const dryRun = opts.dryRun ?? false;
  const run = `export ${from.url('')} -> ${dir}`;
  const state = opts.state ?? join(dir, '.export-state.jsonl');
  if (!dryRun) {
    mkdirSync(join(dir, 'originals'), { recursive: true });
    const [variants, keys, config, first] = await Promise.all([
      from.variants(),
      from.keys(),
      from.config(),
      from.listV2(null, 10),
    ]);
    const hash = first.images.flatMap((i) => i.variants.map(hashFromDeliveryUrl)).find(Boolean) ?? null;
    writeJson(join(dir, 'variants.json'), variants);
    writeJson(join(dir, 'keys.json'), keys);
    writeJson(join(dir, 'account.json'), { accountId: from.accountId, hash, ...config });
  }
  // A new pass (not a resumed one) writes the manifest afresh; a resumed one appends to it. Import
  // reads a repeated id (a kill between the manifest line and the state line) as one image.
  const resume = existsSync(state) ? await Journal.read(state, run) : undefined;
  const fresh = !resume || (resume.cursor === null && resume.done.size === 0);
  const manifestPath = join(dir, MANIFEST);
  let fd: number | undefined;
  if (!dryRun) fd = openSync(manifestPath, fresh ? 'w' : 'a');
  try {
    return await runTransfer({
      source: apiSource(from),
      concurrency: opts.concurrency ?? 4,
      dryRun,
      state: { path: state, run },
      ...(opts.progress ? { progress: opts.progress } : {}),
      async process(image: ImageJson, dry): Promise<Outcome> {
        if (dry) return { result: 'copied', bytes: 0, note: 'would copy' };
        const data = await from.blob(image.id);
        const file = fileFor(image.id, data);
        const path = join(dir, file);
        const digest = sha256(data);
        const same = existsSync(path) && sha256(readFileSync(path)) === digest;
        if (!same) {
          mkdirSync(join(path, '..'), { recursive: true });
          const tmp = `${path}.tmp-${process.pid}`;
          writeFileSync(tmp, data);
          renameSync(tmp, path);
        }
        const line: ManifestLine = {
          id: image.id,
          filename: image.filename ?? null,
          file,
          metadata: metaOf(image),
          creator: image.creator ?? null,
          requireSignedURLs: image.requireSignedURLs,
          uploaded: image.uploaded,
          sha256: digest,
        };
        writeSync(fd!, `${JSON.stringify(line)}\n`);
        fsyncSync(fd!);
        return same
          ? { result: 'skipped', bytes: 0, note: 'present' }
          : { result: 'copied', bytes: data.length };
      },
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeJson(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}
