/**
 * `pictor import`: uploads every image under a directory or an S3 prefix to an account, or restores
 * an export (a directory holding `manifest.jsonl`). Ids come from the relative path (`ids: 'path'`) or
 * are generated (`'uuid'`); a sidecar `<file>.json` holds the image's metadata. Files that are not
 * images are reported and skipped.
 *
 * Directories are walked in sorted order one directory at a time, so a resumed run finds its page
 * again by counting; S3 prefixes are listed with continuation tokens; manifests are read line by line.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { fileTypeFromBuffer } from 'file-type';
import { runTransfer, type Outcome, type TransferReport, type TransferSource } from './engine.js';
import { MANIFEST, type ManifestLine } from './export.js';
import type { ImagesApi, VariantJson } from './images-api.js';
import type { Progress } from './progress.js';
import { createSink, type SinkImage } from './sink.js';
import { sha256 } from './api-source.js';

const PAGE = 100;
const IMAGE_MIME = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/heic',
  'image/heif',
]);

export interface S3Location {
  bucket: string;
  prefix: string;
  endpoint?: string | undefined;
  region: string;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  forcePathStyle: boolean;
}

export interface ImportOptions {
  to: ImagesApi;
  /** A directory path, or an S3 location. */
  from: string | S3Location;
  ids?: 'path' | 'uuid';
  concurrency?: number;
  dryRun?: boolean;
  overwrite?: boolean;
  state: string;
  progress?: Progress;
  onItem?: (key: string, outcome: Outcome | { result: 'failed'; reason: string }) => void;
}

/** Why bytes are not an image, or undefined when they are one Images accepts. */
export async function notAnImage(data: Buffer, name: string): Promise<string | undefined> {
  const type = await fileTypeFromBuffer(data);
  if (type && IMAGE_MIME.has(type.mime)) return undefined;
  // SVG is text: file-type does not detect it.
  if (!type && /\.svg$/i.test(name) && /<svg[\s>]/i.test(data.subarray(0, 4096).toString('utf8')))
    return undefined;
  return `not an image (${type ? type.mime : 'unknown type'}); skipped`;
}

/** Metadata from a sidecar's text: a JSON object. */
function parseSidecar(text: string, name: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`sidecar ${name} is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Error(`sidecar ${name} must hold a JSON object (the metadata)`);
  return v as Record<string, unknown>;
}

interface FileItem {
  /** Relative path with `/` separators (the id in `path` mode). */
  rel: string;
  read(): Promise<Buffer>;
  /** The sidecar's text, or undefined when there is none. */
  sidecar(): Promise<string | undefined>;
}

/** Files under a directory, sorted, in pages; sidecars (`x.json` beside `x`) are not items. */
export function directorySource(root: string): TransferSource<FileItem> {
  async function* walk(dir: string): AsyncGenerator<string> {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    const names = new Set(entries.map((e) => e.name));
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) yield* walk(full);
      else if (e.isFile()) {
        if (e.name.endsWith('.json') && names.has(e.name.slice(0, -5))) continue; // a sidecar
        if (e.name.startsWith('.export-state')) continue;
        yield full;
      }
    }
  }
  const item = (full: string): FileItem => ({
    rel: relative(root, full).split(sep).join('/'),
    read: () => readFile(full),
    sidecar: async () => (existsSync(`${full}.json`) ? readFile(`${full}.json`, 'utf8') : undefined),
  });
  return {
    key: (i) => i.rel,
    async *pages(cursor) {
      const skip = cursor === null ? 0 : Number(cursor);
      let index = 0;
      let items: FileItem[] = [];
      let start = skip;
      for await (const full of walk(root)) {
        if (index++ < skip) continue;
        items.push(item(full));
        if (items.length === PAGE) {
          yield { cursor: start === 0 ? null : String(start), items };
          start += items.length;
          items = [];
        }
      }
      if (items.length > 0) yield { cursor: start === 0 ? null : String(start), items };
    },
    async total() {
      let n = 0;
      for await (const _ of walk(root)) n++;
      return n;
    },
  };
}

/** Objects under an S3 prefix, listed with continuation tokens. */
export function s3Source(loc: S3Location): TransferSource<FileItem> & { client: S3Client } {
  const client = new S3Client({
    region: loc.region,
    forcePathStyle: loc.forcePathStyle,
    ...(loc.endpoint ? { endpoint: loc.endpoint } : {}),
    ...(loc.accessKeyId && loc.secretAccessKey
      ? { credentials: { accessKeyId: loc.accessKeyId, secretAccessKey: loc.secretAccessKey } }
      : {}),
  });
  const get = async (key: string): Promise<Buffer | undefined> => {
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (e) {
      if (
        (e as { name?: string }).name === 'NoSuchKey' ||
        (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
      )
        return undefined;
      throw e;
    }
  };
  const exists = async (key: string): Promise<boolean> => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: key }));
      return true;
    } catch {
      return false;
    }
  };
  const prefix = loc.prefix === '' || loc.prefix.endsWith('/') ? loc.prefix : `${loc.prefix}/`;
  return {
    client,
    key: (i) => i.rel,
    async *pages(cursor) {
      let token = cursor ?? undefined;
      for (;;) {
        const out = await client.send(
          new ListObjectsV2Command({
            Bucket: loc.bucket,
            Prefix: prefix,
            MaxKeys: PAGE,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        const keys = (out.Contents ?? []).map((o) => o.Key!).filter((k) => !k.endsWith('/'));
        const inPage = new Set(keys);
        const items: FileItem[] = [];
        for (const key of keys) {
          if (key.endsWith('.json') && (inPage.has(key.slice(0, -5)) || (await exists(key.slice(0, -5)))))
            continue; // a sidecar
          items.push({
            rel: key.slice(prefix.length),
            read: async () => {
              const b = await get(key);
              if (!b) throw new Error(`s3://${loc.bucket}/${key} disappeared`);
              return b;
            },
            sidecar: async () => (await get(`${key}.json`))?.toString('utf8'),
          });
        }
        yield { cursor: token ?? null, items };
        if (!out.IsTruncated || !out.NextContinuationToken) return;
        token = out.NextContinuationToken;
      }
    },
  };
}

/** The lines of an export's manifest, in pages (cursor: the line number a page starts at). */
function manifestSource(dir: string): TransferSource<ManifestLine> {
  const path = join(dir, MANIFEST);
  return {
    key: (l) => l.id,
    async *pages(cursor) {
      const skip = cursor === null ? 0 : Number(cursor);
      let n = 0;
      let start = skip;
      let items: ManifestLine[] = [];
      const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
      for await (const line of lines) {
        if (line.trim() === '') continue;
        if (n++ < skip) continue;
        items.push(JSON.parse(line) as ManifestLine);
        if (items.length === PAGE) {
          yield { cursor: start === 0 ? null : String(start), items: dedupe(items) };
          start += PAGE;
          items = [];
        }
      }
      if (items.length > 0) yield { cursor: start === 0 ? null : String(start), items: dedupe(items) };
    },
    async total() {
      let n = 0;
      for await (const line of createInterface({
        input: createReadStream(path, 'utf8'),
        crlfDelay: Infinity,
      }))
        if (line.trim() !== '') n++;
      return n;
    },
  };
}

/** A repeated id in one page (an export killed between two state lines) counts once, the last line winning. */
function dedupe(items: ManifestLine[]): ManifestLine[] {
  return [...new Map(items.map((i) => [i.id, i])).values()];
}

export interface ImportReport extends TransferReport {
  settings: string[];
  notPreserved: string[];
  conflicts: number;
}

/** Restores an export's settings: variants, flexible variants and TTL, signing keys with their values. */
async function restoreSettings(
  to: ImagesApi,
  dir: string,
  dryRun: boolean,
  notPreserved: string[],
): Promise<string[]> {
  const lines: string[] = [];
  const read = <T>(name: string): T | undefined =>
    existsSync(join(dir, name)) ? (JSON.parse(readFileSync(join(dir, name), 'utf8')) as T) : undefined;
  const variants = read<VariantJson[]>('variants.json') ?? [];
  const existing = new Map((await to.variants()).map((v) => [v.id, v]));
  for (const v of variants) {
    const there = existing.get(v.id);
    if (
      there &&
      JSON.stringify(there.options) === JSON.stringify(v.options) &&
      (there.neverRequireSignedURLs ?? false) === (v.neverRequireSignedURLs ?? false)
    )
      continue;
    lines.push(`${there ? 'update' : 'create'} variant ${v.id}`);
    if (dryRun) continue;
    try {
      if (there) await to.updateVariant(v);
      else await to.createVariant(v);
    } catch (e) {
      notPreserved.push(`variant ${v.id}: the target refused it (${(e as Error).message})`);
    }
  }
  const account = read<{ flexible_variants: boolean; browser_ttl: number; hash: string | null }>(
    'account.json',
  );
  if (account) {
    lines.push(`set flexible_variants=${account.flexible_variants}, browser_ttl=${account.browser_ttl}`);
    if (!dryRun)
      await to.setConfig({ flexible_variants: account.flexible_variants, browser_ttl: account.browser_ttl });
  }
  for (const k of read<Array<{ name: string; value: string }>>('keys.json') ?? []) {
    lines.push(`set signing key ${k.name}`);
    if (dryRun) continue;
    const after = await to.putKey(k.name, k.value);
    if (after.find((x) => x.name === k.name)?.value !== k.value)
      notPreserved.push(`signing key ${k.name}: the target gave it a value of its own`);
  }
  return lines;
}

export async function importImages(opts: ImportOptions): Promise<ImportReport> {
  const { to } = opts;
  const dryRun = opts.dryRun ?? false;
  const sink = createSink(to, { overwrite: opts.overwrite ?? false });
  const notPreserved: string[] = [];
  const common = {
    concurrency: opts.concurrency ?? 4,
    dryRun,
    ...(opts.progress ? { progress: opts.progress } : {}),
    ...(opts.onItem ? { onItem: opts.onItem } : {}),
  };
  const where = typeof opts.from === 'string' ? opts.from : `s3://${opts.from.bucket}/${opts.from.prefix}`;
  const run = `import ${where} -> ${to.url('')} (ids: ${opts.ids ?? 'path'})`;

  if (typeof opts.from === 'string' && existsSync(join(opts.from, MANIFEST))) {
    const dir = opts.from;
    const settings = await restoreSettings(to, dir, dryRun, notPreserved);
    const report = await runTransfer({
      ...common,
      source: manifestSource(dir),
      state: { path: opts.state, run },
      async process(line, dry) {
        const image: SinkImage = {
          id: line.id,
          filename: line.filename,
          meta: line.metadata,
          creator: line.creator,
          requireSignedURLs: line.requireSignedURLs,
          uploaded: line.uploaded,
        };
        return sink.put(
          image,
          async () => {
            const data = await readFile(join(dir, line.file));
            if (sha256(data) !== line.sha256)
              throw new Error(`${line.file} does not match the manifest's sha256`);
            return data;
          },
          dry,
        );
      },
    });
    if (sink.stats.lostTimes > 0)
      notPreserved.push(
        `upload times: the target set its own \`uploaded\` on ${sink.stats.lostTimes} images`,
      );
    if (sink.stats.idChangeCount > 0)
      notPreserved.push(
        `ids: ${sink.stats.idChangeCount} images with generated (UUID) ids got new ids on the target`,
      );
    return { ...report, settings, notPreserved, conflicts: sink.stats.conflicts };
  }

  let source: TransferSource<FileItem>;
  let close = () => undefined as void;
  if (typeof opts.from === 'string') {
    if (!existsSync(opts.from) || !(await stat(opts.from)).isDirectory())
      throw new Error(`${opts.from} is not a directory`);
    source = directorySource(opts.from);
  } else {
    const s3 = s3Source(opts.from);
    source = s3;
    close = () => s3.client.destroy();
  }
  try {
    const report = await runTransfer({
      ...common,
      source,
      state: { path: opts.state, run },
      async process(item, dry): Promise<Outcome> {
        const data = await item.read();
        const why = await notAnImage(data, item.rel);
        if (why) return { result: 'ignored', bytes: 0, note: why };
        const text = await item.sidecar();
        const meta = text === undefined ? undefined : parseSidecar(text, `${item.rel}.json`);
        const image: SinkImage = {
          id: opts.ids === 'uuid' ? undefined : item.rel,
          filename: item.rel.split('/').pop()!,
          meta,
          requireSignedURLs: false,
        };
        return sink.put(image, async () => data, dry);
      },
    });
    return { ...report, settings: [], notPreserved, conflicts: sink.stats.conflicts };
  } finally {
    close();
  }
}
