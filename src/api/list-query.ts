/**
 * The HTTP query grammar of `GET /images/v2`, parsed into the store's typed query. The route's schema
 * (schemas.ts ListV2Query) has already checked per_page, sort_order, creator and the token's type.
 *
 * Parses the v2 list query (digest §2.3): `per_page`, `sort_order`, `creator`, an opaque
 * `continuation_token`, and `meta.<field>[<op>]=<value>` filters. An invalid filter is an error,
 * never an unfiltered list.
 */
import { appError } from '../core/errors.js';
import { invalid } from '../core/check.js';
import type { Static } from '@sinclair/typebox';
import type { ListV2Query } from './schemas.js';

type ListV2QueryString = Static<typeof ListV2Query> & Record<string, unknown>;
import type { ListImagesV2Query, MetaFilter } from '../services/images.js';

export const V2_PER_PAGE = { min: 10, max: 10_000, default: 1000 } as const;
export const MAX_FILTERS = 5;
export const MAX_DEPTH = 5;
export const MAX_IN_VALUES = 10;

const FIELD_RE = /^[A-Za-z0-9_]{1,100}$/;
const KEY_RE = /^meta\.([^[\]]+)\[([a-z]+(?::[a-z]+)?)\]$/;
const NUMBER_RE = /^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const OPS: Record<string, Pick<MetaFilter, 'op' | 'type'>> = {
  eq: { op: 'eq', type: 'auto' },
  'eq:string': { op: 'eq', type: 'string' },
  'eq:number': { op: 'eq', type: 'number' },
  'eq:boolean': { op: 'eq', type: 'boolean' },
  gt: { op: 'gt', type: 'number' },
  'gt:number': { op: 'gt', type: 'number' },
  gte: { op: 'gte', type: 'number' },
  'gte:number': { op: 'gte', type: 'number' },
  lt: { op: 'lt', type: 'number' },
  'lt:number': { op: 'lt', type: 'number' },
  lte: { op: 'lte', type: 'number' },
  'lte:number': { op: 'lte', type: 'number' },
  in: { op: 'in', type: 'auto' },
  'in:string': { op: 'in', type: 'string' },
  'in:number': { op: 'in', type: 'number' },
};

function bad(detail: string): never {
  throw appError('badRequest', detail);
}

function typed(value: string, type: MetaFilter['type'], name: string): string | number | boolean {
  if (type === 'number') {
    if (!NUMBER_RE.test(value)) bad(invalid(name, 'number', value));
    return Number(value);
  }
  if (type === 'boolean') {
    if (value !== 'true' && value !== 'false') bad(invalid(name, 'true or false', value));
    return value === 'true';
  }
  return value;
}

/** One `meta.<path>[<op>]` query parameter. */
export function parseMetaFilter(key: string, raw: unknown): MetaFilter {
  const m = KEY_RE.exec(key);
  if (!m) bad(invalid(key, 'meta.<field>[<operator>]', key));
  const path = m[1]!;
  const opName = m[2]!;
  const segments = path.split('.');
  if (segments.length > MAX_DEPTH) bad(invalid(key, `at most ${MAX_DEPTH} nesting levels`, path));
  for (const seg of segments)
    if (!FIELD_RE.test(seg)) bad(invalid(key, 'field names of letters, digits and _ (at most 100)', seg));
  const op = OPS[opName];
  if (!op) bad(invalid(key, `an operator among ${Object.keys(OPS).join(', ')}`, opName));
  if (typeof raw !== 'string') bad(invalid(key, 'one value', raw));
  const parts = op.op === 'in' ? raw.split('|') : [raw];
  if (op.op === 'in' && parts.length > MAX_IN_VALUES)
    bad(invalid(key, `at most ${MAX_IN_VALUES} values`, raw));
  if (parts.some((p) => p === '')) bad(invalid(key, 'non-empty value', raw));
  return { path, op: op.op, type: op.type, values: parts.map((p) => typed(p, op.type, key)) };
}

/** Clamps a page size into its range (Cloudflare clamps rather than refuses). */
export function clampPerPage(n: number, range: { min: number; max: number }): number {
  return Math.min(range.max, Math.max(range.min, n));
}

interface Token {
  v: 1;
  o: 'asc' | 'desc';
  a: number;
}

export function encodeToken(order: 'asc' | 'desc', after: number): string {
  return Buffer.from(JSON.stringify({ v: 1, o: order, a: after } satisfies Token)).toString('base64url');
}

function decodeToken(token: string, order: 'asc' | 'desc'): number {
  let t: Token;
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Token;
  } catch {
    return bad(invalid('continuation_token', 'a token from a previous page', token));
  }
  if (t?.v !== 1 || (t.o !== 'asc' && t.o !== 'desc') || !Number.isSafeInteger(t.a))
    bad(invalid('continuation_token', 'a token from a previous page', token));
  if (t.o !== order) bad('The continuation_token belongs to a listing with another sort_order');
  return t.a;
}

/** The whole query string of `GET /images/v2`. */
export function parseListV2Query(q: ListV2QueryString): ListImagesV2Query {
  const order = q.sort_order ?? 'desc';
  const limit = q.per_page ? clampPerPage(Number(q.per_page), V2_PER_PAGE) : V2_PER_PAGE.default;
  const creator = q.creator === undefined ? undefined : q.creator === '' ? null : q.creator;
  const token = q.continuation_token;
  const after =
    token !== undefined && token !== '' && token !== 'null' ? decodeToken(token, order) : undefined;
  const filters: MetaFilter[] = [];
  for (const [key, value] of Object.entries(q)) {
    if (!key.startsWith('meta.') && !key.startsWith('meta[')) continue;
    filters.push(parseMetaFilter(key, Array.isArray(value) ? bad(invalid(key, 'one value', value)) : value));
  }
  if (filters.length > MAX_FILTERS)
    bad(`At most ${MAX_FILTERS} metadata filters are allowed (received ${filters.length})`);
  return { order, limit, creator, after, filters };
}
