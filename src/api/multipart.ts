/**
 * Reads an upload form with @fastify/multipart, streaming the file under the size cap, and folds the
 * three metadata encodings clients use into one object (digest §1.4):
 * - one `metadata` part holding JSON text (curl, legacy Go SDK);
 * - `metadata[key]` / `metadata[a][b]` / `metadata[list][]` parts (TypeScript and Python SDKs);
 * - `metadata.key` / `metadata.a.b` parts (Go SDK v6).
 * The folding is hand-written rather than done by `qs` (tried: qs 6.15 with `allowDots`,
 * `allowPrototypes: false`, `depth` and `parameterLimit` set), because qs would change answers:
 * it turns `metadata[0]=z` into an array, drops `__proto__` keys silently where this answers 400,
 * keeps a key past `depth` as one literal remainder (or throws a bare RangeError under
 * `strictDepth`) where this answers the nesting error, and folds `metadata[a]=1` with
 * `metadata[a][b]=2` into `['1', { b: '2' }]`. The grammar is two productions; `setPath` refuses
 * prototype keys itself.
 */
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { AppError, appError } from '../core/errors.js';
import { BufferPool } from '../core/buffer-pool.js';
import { invalid, jsonDepth, MAX_JSON_DEPTH, parseBool } from '../core/check.js';

export interface UploadForm {
  file: { data: Buffer; filename: string | null } | undefined;
  url: string | undefined;
  id: string | undefined;
  creator: string | undefined;
  requireSignedURLs: boolean | undefined;
  metadata: Record<string, unknown> | undefined;
  /** Any other text fields (for forms shared with direct upload, e.g. `expiry`). */
  fields: Map<string, string>;
}

/**
 * Buffers that file parts are read into, kept for the next upload (core/buffer-pool.ts). A multipart
 * file arrives as ~64 KiB socket chunks; joining them into a fresh buffer per upload cost, for 8 MB
 * uploads, more main-thread time than anything else (the copy into never-touched pages, and the full
 * garbage collections that V8 runs as external memory grows; bench/README.md, benchmark 5). A reused
 * buffer is warm and is not garbage. At most POOL_BYTES stay pooled, so a large
 * PICTOR_MAX_UPLOAD_BYTES pools nothing and falls back to a buffer of the request's Content-Length.
 */
const POOL_BYTES = 64 * 1024 * 1024;
const pool = new BufferPool(POOL_BYTES);

/** `buf` is exactly `capacity` long (reading past it is how the cap is found); `lease` goes back to the pool. */
function takeBuffer(capacity: number, hint: number | undefined): { buf: Buffer; lease?: Buffer } | undefined {
  if (capacity <= POOL_BYTES) {
    const lease = pool.take(capacity);
    return { buf: lease.subarray(0, capacity), lease };
  }
  // Too large to pool: exactly the body's size when the client declared it, else chunks are joined.
  return hint === undefined ? undefined : { buf: Buffer.allocUnsafe(Math.min(hint, capacity)) };
}

/** Pooled buffers waiting in the pool (for tests). */
export function pooledUploadBuffers(): number {
  return pool.count;
}

/**
 * Reads the upload form, runs `use` with it and then returns the file's buffer to the pool: the
 * file's bytes are valid only until `use` settles (nothing may keep them: they are copied into the
 * blob store).
 */
export async function withUploadForm<T>(
  req: FastifyRequest,
  maxFileBytes: number,
  use: (form: UploadForm) => Promise<T>,
): Promise<T> {
  const leases: Buffer[] = [];
  try {
    return await use(await readForm(req, maxFileBytes, leases));
  } finally {
    for (const b of leases) pool.give(b);
  }
}

/** Splits `metadata[a][b]`, `metadata.a.b` and `metadata[a].b` into ['a','b']; `[]` becomes ''. */
export function metadataPath(name: string): string[] | undefined {
  if (!name.startsWith('metadata') || name === 'metadata') return undefined;
  const rest = name.slice('metadata'.length);
  const path: string[] = [];
  const re = /\[([^\]]*)\]|\.([^.[\]]+)/gy;
  let consumed = 0;
  for (let m = re.exec(rest); m !== null; m = re.exec(rest)) {
    path.push(m[1] ?? m[2] ?? '');
    consumed = re.lastIndex;
  }
  return consumed === rest.length && path.length > 0 ? path : undefined;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Sets `value` at `path` in `target`, creating objects (or arrays for `[]`) on the way. */
export function setPath(target: Record<string, unknown>, path: string[], value: string): void {
  let node: Record<string, unknown> | unknown[] = target;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    const last = i === path.length - 1;
    if (FORBIDDEN_KEYS.has(key)) throw appError('badRequest', `Metadata key ${key} is not allowed`);
    if (Array.isArray(node)) {
      if (last) node.push(value);
      else {
        const child = {};
        node.push(child);
        node = child;
      }
      continue;
    }
    if (last) {
      if (key === '') throw appError('badRequest', invalid('metadata key', 'non-empty name', key));
      node[key] = value;
      continue;
    }
    const nextIsArray = path[i + 1] === '';
    const existing = node[key];
    if (typeof existing !== 'object' || existing === null) node[key] = nextIsArray ? [] : {};
    node = node[key] as Record<string, unknown> | unknown[];
  }
}

function parseMetadataJson(text: string): Record<string, unknown> {
  if (jsonDepth(text) > MAX_JSON_DEPTH)
    throw appError('badRequest', `Metadata nests deeper than ${MAX_JSON_DEPTH} levels`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw appError('badRequest', 'Metadata must be a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw appError('badRequest', 'Metadata must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/**
 * Reads the whole form. The file is buffered while streaming (into a pooled buffer, put in `leases`
 * for the caller to give back) and refused with 5413 as soon as it passes `maxFileBytes`.
 */
async function readForm(req: FastifyRequest, maxFileBytes: number, leases: Buffer[]): Promise<UploadForm> {
  if (!req.isMultipart()) throw appError('notMultipart');
  const form: UploadForm = {
    file: undefined,
    url: undefined,
    id: undefined,
    creator: undefined,
    requireSignedURLs: undefined,
    metadata: undefined,
    fields: new Map(),
  };
  let folded: Record<string, unknown> | undefined;
  let metadataJson: string | undefined;
  try {
    const parts = req.parts({
      // A `file` part is the image even without a filename (hand-built forms, some HTTP clients).
      isPartAFile: (name, contentType, filename) =>
        name === 'file' || filename !== undefined || contentType === 'application/octet-stream',
      limits: {
        fileSize: maxFileBytes,
        files: 1,
        fields: 200,
        fieldSize: 16 * 1024,
        parts: 201,
        fieldNameSize: 1024,
      },
    });
    for await (const part of parts) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') {
          part.file.resume();
          throw appError(
            'badRequest',
            `Unexpected file field ${part.fieldname}; the image goes in the field named file`,
          );
        }
        const length = Number(req.headers['content-length']);
        const data = await readCapped(
          part.file,
          maxFileBytes,
          Number.isSafeInteger(length) && length > 0 ? length : undefined,
          leases,
        );
        form.file = { data, filename: part.filename ? part.filename.slice(0, 255) : null };
        continue;
      }
      if (part.valueTruncated || part.fieldnameTruncated)
        throw appError('badRequest', `Form field ${part.fieldname} is too large`);
      const value = typeof part.value === 'string' ? part.value : String(part.value);
      const name = part.fieldname;
      if (name === 'url') form.url = value;
      else if (name === 'id') form.id = value;
      else if (name === 'creator') form.creator = value;
      else if (name === 'requireSignedURLs') {
        const b = parseBool(value);
        if (b === undefined)
          throw appError('badRequest', invalid('requireSignedURLs', 'true or false', value));
        form.requireSignedURLs = b;
      } else if (name === 'metadata') metadataJson = value;
      else {
        const path = metadataPath(name);
        if (path && path.length > MAX_JSON_DEPTH)
          throw appError('badRequest', `Metadata nests deeper than ${MAX_JSON_DEPTH} levels`);
        if (path) {
          folded ??= {};
          setPath(folded, path, value);
        } else form.fields.set(name, value);
      }
    }
  } catch (e) {
    throw mapMultipartError(e, maxFileBytes);
  }
  if (metadataJson !== undefined && folded !== undefined) {
    throw appError('badRequest', 'Send metadata either as one JSON part or as metadata[key] parts, not both');
  }
  if (metadataJson !== undefined) form.metadata = parseMetadataJson(metadataJson);
  else if (folded !== undefined) form.metadata = folded;
  return form;
}

/**
 * Buffers a file part, failing the moment it passes the cap instead of reading to the end of the
 * part (toBuffer() waits for the end, so a client could keep sending forever). The bytes go into one
 * buffer of `maxFileBytes` (pooled, see takeBuffer) as they come; `hint` is the body's declared size.
 */
function readCapped(
  stream: Readable & { truncated?: boolean },
  maxFileBytes: number,
  hint: number | undefined,
  leases: Buffer[],
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const taken = takeBuffer(maxFileBytes, hint);
    if (taken?.lease) leases.push(taken.lease);
    const target = taken?.buf;
    const chunks: Buffer[] = [];
    let length = 0;
    // Once settled, the buffer may go back to the pool: nothing more is copied into it.
    let settled = false;
    const fail = (e: unknown) => {
      settled = true;
      reject(e);
    };
    const tooLarge = () => fail(tooLargeError(maxFileBytes));
    // A part can end without 'end' or 'error': on a body cut short, @fastify/multipart destroys the part
    // with no error. When the whole body had arrived before the handler ran (an auth hook awaiting
    // PostgreSQL), that happened before these listeners existed, and the request hung for ever.
    const cutShort = () => fail(new AppError('receiveError', { cause: new Error('file part cut short') }));
    if (stream.destroyed && !stream.readableEnded) return cutShort();
    stream.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (!target) {
        chunks.push(chunk);
        return;
      }
      if (length + chunk.length > target.length) {
        // Beyond the buffer: past the cap (busboy's 'limit' follows), or past a declared length.
        length = target.length + 1;
        return;
      }
      chunk.copy(target, length);
      length += chunk.length;
    });
    stream.once('limit', tooLarge);
    stream.once('error', fail);
    stream.once('close', () => {
      if (!settled && !stream.readableEnded) cutShort();
    });
    stream.once('end', () => {
      if (settled) return;
      if (stream.truncated || length > maxFileBytes) return tooLarge();
      if (target && length > target.length)
        return fail(appError('badRequest', 'The file is longer than the request'));
      settled = true;
      resolve(target ? target.subarray(0, length) : Buffer.concat(chunks));
    });
  });
}

function tooLargeError(maxFileBytes: number): AppError {
  const mb = maxFileBytes / (1024 * 1024);
  const text = `Maximum image size of ${Number.isInteger(mb) ? `${mb} MB` : `${maxFileBytes} bytes`} is reached`;
  // The rest of the body is not read: the connection closes after the answer.
  return new AppError('fileTooLarge', { detail: text, headers: { connection: 'close' } });
}

function mapMultipartError(e: unknown, maxFileBytes: number): AppError {
  if (e instanceof AppError) return e;
  const code = (e as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return tooLargeError(maxFileBytes);
  if (code === 'FST_FILES_LIMIT') return appError('badRequest', 'Only one file may be uploaded per request');
  if (code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT')
    return appError('badRequest', 'Too many form fields');
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return appError('notMultipart');
  return new AppError('receiveError', { cause: e });
}
