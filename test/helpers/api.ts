/**
 * What the suites read back from the API: the response types of `src/api` (imported, so a change to the
 * wire format is a type error in the suites too) and `toRes`, one response read into status, headers,
 * text, bytes and the parsed envelope.
 */
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
