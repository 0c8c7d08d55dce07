/**
 * What the suites read back from the API: the response types of `src/api` (imported, so a change to the
 * wire format is a type error in the suites too) and `toRes`, one response read into status, headers,
 * text, bytes and the parsed envelope.
 */
import { expect } from 'vitest';
import type { Envelope as WireEnvelope } from '../../src/api/envelope.js';

export type { ImageJson } from '../../src/api/image-json.js';

/** One entry of `errors` (with `error_chain` where the server gives one). */
export type ErrorEntry = WireEnvelope<unknown>['errors'][number];

/** The Cloudflare envelope as a client reads it: list answers add `result_info`. */
export interface Envelope<T = unknown> extends WireEnvelope<T> {
  result_info?: unknown;
}

export interface Res<T = unknown> {
  status: number;
  headers: Headers;
  /** The body as UTF-8 text. */
  text: string;
  bytes: Buffer;
  /** The parsed envelope; undefined at run time when the body is not JSON. */
  body: Envelope<T>;
}

/** Reads a whole response. */
export async function toRes<T = unknown>(res: Response): Promise<Res<T>> {
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, bytes, body: parsed as Envelope<T> };
}

/** Asserts a success envelope (200, JSON, no errors, no messages); returns its result. */
export function expectOk<T>(res: Res<T>): T {
  const ctx = `${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, ctx).toBe(200);
  expect(res.headers.get('content-type') ?? '', ctx).toMatch(/^application\/json/);
  expect(res.body?.success, ctx).toBe(true);
  expect(res.body.errors, ctx).toEqual([]);
  expect(res.body.messages, ctx).toEqual([]);
  return res.body.result;
}

/**
 * Asserts a failure envelope with `status` and `code`: `ERROR <code>: ` before the message of an Images
 * code (5xxx), none before a generic Cloudflare code. Returns the first error entry.
 */
export function expectError(res: Res, status: number, code: number): ErrorEntry {
  const ctx = `${res.status} ${res.text.slice(0, 300)}`;
  expect(res.body, `body is not JSON: ${ctx}`).toBeTypeOf('object');
  expect(res.status, ctx).toBe(status);
  expect(res.body.success, ctx).toBe(false);
  expect(res.body.result, ctx).toBeNull();
  expect(res.body.errors.length, ctx).toBeGreaterThanOrEqual(1);
  const e = res.body.errors[0]!;
  expect(e.code, ctx).toBe(code);
  if (code >= 5000 && code < 6000) expect(e.message.startsWith(`ERROR ${code}: `), ctx).toBe(true);
  else expect(e.message, ctx).not.toMatch(/^ERROR \d+:/);
  return e;
}

/** A request's credentials and body, for `request`. */
export interface CallOpts {
  /** Bearer token; null (or leaving it out) sends no Authorization header. */
  token?: string | null;
  headers?: Record<string, string>;
  body?: BodyInit;
  /** JSON body (sets content-type). */
  json?: unknown;
}

/** `method url` with the token, headers and body of `opts`, read into a `Res`. */
export async function request<T = unknown>(
  url: string,
  method: string,
  opts: CallOpts = {},
): Promise<Res<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== undefined && opts.token !== null) headers.authorization = `Bearer ${opts.token}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  return toRes<T>(await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) }));
}
