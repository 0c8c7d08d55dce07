/**
 * Flattening of image metadata into `image_meta` rows, and the SQL conditions for v2 metadata
 * filters. One row per scalar value: objects recurse (path segments joined with `.`, at most 5
 * levels, the filter grammar's limit), arrays index each scalar element under the array's path.
 */
import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import type { MetaFilter } from '../types.js';
import type { Database, ImageMetaTable } from './schema.js';

export const MAX_META_DEPTH = 5;

/** The rows that index one image's metadata. */
export function flattenMeta(
  accountId: string,
  imageSeq: number,
  meta: Record<string, unknown> | null,
): ImageMetaTable[] {
  const rows: ImageMetaTable[] = [];
  const scalar = (path: string, v: unknown) => {
    if (typeof v === 'string')
      rows.push({ account_id: accountId, image_seq: imageSeq, path, s: v, n: null, b: null });
    else if (typeof v === 'number' && Number.isFinite(v))
      rows.push({ account_id: accountId, image_seq: imageSeq, path, s: String(v), n: v, b: null });
    else if (typeof v === 'boolean')
      rows.push({ account_id: accountId, image_seq: imageSeq, path, s: String(v), n: null, b: v ? 1 : 0 });
  };
  const walk = (prefix: string, value: unknown, depth: number) => {
    if (depth > MAX_META_DEPTH) return;
    if (Array.isArray(value)) {
      for (const el of value) if (typeof el !== 'object' || el === null) scalar(prefix, el);
      return;
    }
    if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v, depth + 1);
      return;
    }
    if (prefix) scalar(prefix, value);
  };
  walk('', meta, 0);
  return rows;
}

/**
 * Replaces the index rows of one image (inside the caller's transaction). `fresh`: the row was just
 * inserted, so it has none to delete (positions are never reused: AUTOINCREMENT, bigserial, and every
 * delete of a row removes its index rows in the same transaction).
 */
export async function writeMetaIndex(
  trx: Kysely<Database> | Transaction<Database>,
  accountId: string,
  imageSeq: number,
  meta: Record<string, unknown> | null,
  fresh = false,
): Promise<void> {
  if (!fresh) await trx.deleteFrom('image_meta').where('image_seq', '=', imageSeq).execute();
  const rows = flattenMeta(accountId, imageSeq, meta);
  if (rows.length > 0) await trx.insertInto('image_meta').values(rows).execute();
}

/**
 * The condition `images.seq IN (indexed rows matching the filter)`: SQLite and PostgreSQL answer it
 * from the (account_id, path, s|n|b, image_seq) indexes.
 */
export function filterCondition(accountId: string, f: MetaFilter) {
  return (eb: ExpressionBuilder<Database, 'images'>) => {
    let sub = eb
      .selectFrom('image_meta')
      .select('image_meta.image_seq')
      .where('image_meta.account_id', '=', accountId)
      .where('image_meta.path', '=', f.path);
    const values = f.values;
    if (f.op === 'eq' || f.op === 'in') {
      if (f.type === 'number') sub = sub.where('image_meta.n', 'in', values.map(Number));
      else if (f.type === 'boolean')
        sub = sub.where(
          'image_meta.b',
          'in',
          values.map((v) => (v === true || v === 'true' ? 1 : 0)),
        );
      else {
        sub = sub.where('image_meta.s', 'in', values.map(String));
        if (f.type === 'string')
          sub = sub.where('image_meta.n', 'is', null).where('image_meta.b', 'is', null);
      }
    } else {
      const op = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[f.op] as '>' | '>=' | '<' | '<=';
      sub = sub.where('image_meta.n', op, Number(values[0]));
    }
    return eb('images.seq', 'in', sub);
  };
}
