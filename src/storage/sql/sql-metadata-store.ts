/**
 * MetadataStore on Kysely: one set of queries for SQLite and PostgreSQL. Dialect differences are
 * limited to the row lock taken before quota and limit checks (PostgreSQL `FOR UPDATE`; SQLite
 * serialises writers already).
 */
import { Migrator, type Kysely, type Transaction, type Selectable } from 'kysely';
import type {
  Account,
  ApiCredential,
  ImageFacts,
  ImageRecord,
  SigningKey,
  VariantRecord,
} from '../../core/types.js';
import type {
  AccountPatch,
  BlobReplacement,
  ImagePatch,
  InsertImageResult,
  InsertVariantResult,
  ListImagesQuery,
  ListImagesV2Page,
  CompleteDraftResult,
  DraftCompletion,
  ListImagesV2Query,
  MetadataStore,
} from '../types.js';
import { migrationProvider, type SqlDialectName } from './migrations.js';
import type {
  AccountsTable,
  CredentialsTable,
  Database,
  ImagesTable,
  SigningKeysTable,
  VariantsTable,
} from './schema.js';
import { filterCondition, writeMetaIndex } from './meta-index.js';
import { factColumns, toAccount, toCredential, toImage, toKey, toVariant, fromImage } from './rows.js';

/**
 * Whether keys can name a row. No stored key holds a NUL: PostgreSQL's text cannot (it refuses such a
 * parameter with an error, which reached clients as a 500 for `GET /images/v1/%00`), and the services
 * refuse custom ids with control characters. So a lookup by one finds nothing, on every dialect alike.
 */
function nameable(...keys: string[]): boolean {
  return !keys.some((k) => k.includes('\0'));
}

export class SqlMetadataStore implements MetadataStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
    /** Runs before migrations (PostgreSQL: create the schema). */
    private readonly prepare: () => Promise<void> = async () => undefined,
    /** PostgreSQL schema of the tables (Kysely otherwise finds its migration table in any schema). */
    private readonly schema?: string,
    /**
     * Runs inside the transaction of every change that can alter what a delivery URL resolves to
     * (the same set the services bump their Generation for: account settings, image edit and delete,
     * variant edit and delete). PostgreSQL: `pg_notify`, so other nodes learn of the change exactly
     * when it commits (a notification is delivered on commit and dropped on rollback).
     */
    private readonly announce?: (trx: Transaction<Database>) => Promise<void>,
  ) {}

  /** Runs `work` in a transaction that also announces the change (when an announcer is set). */
  private changing<T>(
    work: (trx: Transaction<Database>) => Promise<T>,
    changed: (result: T) => boolean = () => true,
  ): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      const result = await work(trx);
      if (this.announce && changed(result)) await this.announce(trx);
      return result;
    });
  }

  async migrate(): Promise<void> {
    await this.prepare();
    const migrator = new Migrator({
      db: this.db,
      provider: migrationProvider(this.dialect),
      ...(this.schema ? { migrationTableSchema: this.schema } : {}),
    });
    // Kysely's migrator looks for its table by introspecting every schema of the database; a schema
    // that someone else drops during that query (another instance's, or a test's) fails it with
    // 3F000/42P01 although nothing is wrong with ours, so that one case is retried.
    for (let attempt = 1; ; attempt++) {
      const { error } = await migrator.migrateToLatest();
      if (!error) return;
      const code = (error as { code?: unknown }).code;
      if (this.dialect !== 'postgres' || (code !== '3F000' && code !== '42P01') || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  /** Locks the account row for the rest of the transaction (PostgreSQL); SQLite has one writer. */
  private async lockAccount(trx: Transaction<Database>, accountId: string): Promise<void> {
    if (this.dialect !== 'postgres') return;
    await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().execute();
  }

  async createAccount(
    account: Account,
    seed: { variants: VariantRecord[]; keys: SigningKey[] },
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('accounts').values(fromAccount(account)).execute();
      let seq = 0;
      for (const v of seed.variants) await trx.insertInto('variants').values(fromVariant(v, ++seq)).execute();
      seq = 0;
      for (const k of seed.keys) await trx.insertInto('signing_keys').values(fromKey(k, ++seq)).execute();
    });
  }

  async getAccount(id: string): Promise<Account | null> {
    if (!nameable(id)) return null;
    const row = await this.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toAccount(row) : null;
  }

  async getAccountByHash(hash: string): Promise<Account | null> {
    if (!nameable(hash)) return null;
    const row = await this.db.selectFrom('accounts').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row ? toAccount(row) : null;
  }

  async listAccounts(): Promise<Account[]> {
    const rows = await this.db
      .selectFrom('accounts')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toAccount);
  }

  async updateAccount(id: string, patch: AccountPatch): Promise<Account | null> {
    const values: Partial<AccountsTable> = {};
    if (patch.allowance !== undefined) values.allowance = patch.allowance;
    if (patch.flexibleVariants !== undefined) values.flexible_variants = patch.flexibleVariants ? 1 : 0;
    if (patch.browserTtl !== undefined) values.browser_ttl = patch.browserTtl;
    if (Object.keys(values).length > 0)
      await this.changing((trx) => trx.updateTable('accounts').set(values).where('id', '=', id).execute());
    return this.getAccount(id);
  }

  async putCredential(c: ApiCredential): Promise<void> {
    const row: CredentialsTable = {
      secret_hash: c.secretHash,
      kind: c.kind,
      email: c.email,
      permissions: JSON.stringify(c.permissions),
      account_ids: JSON.stringify(c.accountIds),
      label: c.label,
      created_at: c.createdAt,
      expires_at: c.expiresAt,
    };
    await this.db
      .insertInto('credentials')
      .values(row)
      .onConflict((oc) => oc.column('secret_hash').doUpdateSet({ ...row }))
      .execute();
  }

  async findCredential(secretHash: string): Promise<ApiCredential | null> {
    const row = await this.db
      .selectFrom('credentials')
      .selectAll()
      .where('secret_hash', '=', secretHash)
      .executeTakeFirst();
    return row ? toCredential(row) : null;
  }

  async listCredentials(): Promise<ApiCredential[]> {
    const rows = await this.db
      .selectFrom('credentials')
      .selectAll()
      .orderBy('created_at')
      .orderBy('secret_hash')
      .execute();
    return rows.map(toCredential);
  }

  async deleteCredential(secretHash: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('credentials')
      .where('secret_hash', '=', secretHash)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /**
   * One read for everything a write of an image row checks: the account's allowance and (when
   * `count`) its number of images, and the row already holding `id`. On PostgreSQL the account row
   * is locked first, by a statement of its own: in READ COMMITTED a `FOR UPDATE` on this read would
   * wait for the lock but keep the subqueries' older snapshot (a count that misses the writer it
   * waited for). Undefined when the account does not exist.
   */
  private async admission(
    trx: Transaction<Database>,
    accountId: string,
    id: string,
    count: boolean,
  ): Promise<
    | {
        allowance: number;
        count: number;
        taken: { seq: number; draft: boolean; expiresAt: number | null } | null;
      }
    | undefined
  > {
    const taken = (column: 'seq' | 'draft' | 'expires_at') =>
      trx
        .selectFrom('images')
        .select(column)
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .as(`taken_${column}`);
    await this.lockAccount(trx, accountId);
    const row = await trx
      .selectFrom('accounts')
      .select((eb) => [
        'allowance',
        taken('seq'),
        taken('draft'),
        taken('expires_at'),
        (count
          ? eb
              .selectFrom('images')
              .select(eb.fn.countAll().as('n'))
              .where('account_id', '=', accountId)
              .where('draft', '=', 0)
          : eb.val(0)
        ).as('n'),
      ])
      .where('id', '=', accountId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      allowance: Number(row.allowance),
      count: Number(row.n ?? 0),
      taken:
        row.taken_seq === null || row.taken_seq === undefined
          ? null
          : {
              seq: Number(row.taken_seq),
              draft: Number(row.taken_draft) === 1,
              expiresAt: row.taken_expires_at === null ? null : Number(row.taken_expires_at),
            },
    };
  }

  /** Statements on SQLite: begin, the admission read, the insert, the index rows (if any), commit. */
  async insertImage(image: ImageRecord): Promise<InsertImageResult> {
    return this.db.transaction().execute(async (trx) => {
      const admitted = await this.admission(trx, image.accountId, image.id, !image.draft);
      let taken = admitted?.taken ?? null;
      if (!admitted) {
        // No account row (the store does not enforce it): only the id can be checked.
        const row = await trx
          .selectFrom('images')
          .select(['seq', 'draft', 'expires_at'])
          .where('account_id', '=', image.accountId)
          .where('id', '=', image.id)
          .executeTakeFirst();
        taken = row
          ? {
              seq: Number(row.seq),
              draft: Number(row.draft) === 1,
              expiresAt: row.expires_at === null ? null : Number(row.expires_at),
            }
          : null;
      }
      if (taken) {
        // An expired draft no longer holds its id, even before the sweeper removes it.
        const expired = taken.draft && taken.expiresAt !== null && taken.expiresAt < image.uploaded;
        if (!expired) return 'exists';
        await trx.deleteFrom('image_meta').where('image_seq', '=', taken.seq).execute();
        await trx.deleteFrom('images').where('seq', '=', taken.seq).execute();
      }
      if (!image.draft && admitted && admitted.count >= admitted.allowance) return 'quota';
      const inserted = await trx
        .insertInto('images')
        .values(fromImage(image))
        .returning('seq')
        .executeTakeFirstOrThrow();
      await writeMetaIndex(trx, image.accountId, Number(inserted.seq), image.meta, true);
      return 'ok';
    });
  }

  async getImage(accountId: string, id: string): Promise<ImageRecord | null> {
    if (!nameable(accountId, id)) return null;
    const row = await this.db
      .selectFrom('images')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toImage(row) : null;
  }

  async listImages(accountId: string, query: ListImagesQuery): Promise<ImageRecord[]> {
    let q = this.db
      .selectFrom('images')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('draft', '=', 0);
    if (query.creator === null) q = q.where('creator', 'is', null);
    else if (query.creator !== undefined) q = q.where('creator', '=', query.creator);
    const rows = await q.orderBy('seq', 'asc').limit(query.limit).offset(query.offset).execute();
    return rows.map(toImage);
  }

  async listImagesV2(accountId: string, query: ListImagesV2Query): Promise<ListImagesV2Page> {
    let q = this.db
      .selectFrom('images')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('draft', '=', 0);
    if (query.creator === null) q = q.where('creator', 'is', null);
    else if (query.creator !== undefined) q = q.where('creator', '=', query.creator);
    if (query.after !== undefined) q = q.where('seq', query.order === 'asc' ? '>' : '<', query.after);
    for (const f of query.filters) q = q.where(filterCondition(accountId, f));
    const rows = await q
      .orderBy('seq', query.order)
      .limit(query.limit + 1)
      .execute();
    const more = rows.length > query.limit;
    const page = more ? rows.slice(0, query.limit) : rows;
    return { images: page.map(toImage), next: more ? Number(page[page.length - 1]!.seq) : null };
  }

  async updateImage(accountId: string, id: string, patch: ImagePatch): Promise<ImageRecord | null> {
    if (!nameable(accountId, id)) return null;
    const values: Partial<Selectable<ImagesTable>> = {};
    if (patch.meta !== undefined) values.meta = patch.meta === null ? null : JSON.stringify(patch.meta);
    if (patch.creator !== undefined) values.creator = patch.creator;
    if (patch.requireSignedURLs !== undefined) values.require_signed = patch.requireSignedURLs ? 1 : 0;
    return this.changing(
      async (trx) => {
        const updated = await trx
          .updateTable('images')
          .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
          .where('account_id', '=', accountId)
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst();
        if (!updated) return null;
        if (patch.meta !== undefined) await writeMetaIndex(trx, accountId, Number(updated.seq), patch.meta);
        return toImage(updated);
      },
      (r) => r !== null,
    );
  }

  async setImageFacts(accountId: string, id: string, blobKey: string, facts: ImageFacts): Promise<boolean> {
    if (!nameable(accountId, id, blobKey)) return false;
    const result = await this.db
      .updateTable('images')
      .set(factColumns(facts))
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .where('blob_key', '=', blobKey)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async replaceImageBlob(
    accountId: string,
    id: string,
    fromBlobKey: string,
    next: BlobReplacement,
  ): Promise<ImageRecord | null> {
    if (!nameable(accountId, id, fromBlobKey)) return null;
    const updated = await this.db
      .updateTable('images')
      .set((eb) => ({
        blob_key: next.blobKey,
        size: next.size,
        svg_sanitizer: next.svgSanitizer ?? null,
        version: eb('version', '+', 1),
      }))
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .where('blob_key', '=', fromBlobKey)
      .returningAll()
      .executeTakeFirst();
    return updated ? toImage(updated) : null;
  }

  async deleteImage(accountId: string, id: string): Promise<ImageRecord | null> {
    if (!nameable(accountId, id)) return null;
    return this.changing(
      async (trx) => {
        const row = await trx
          .selectFrom('images')
          .selectAll()
          .where('account_id', '=', accountId)
          .where('id', '=', id)
          .executeTakeFirst();
        if (!row) return null;
        await trx.deleteFrom('images').where('seq', '=', row.seq).execute();
        await trx.deleteFrom('image_meta').where('image_seq', '=', row.seq).execute();
        return toImage(row);
      },
      (r) => r !== null,
    );
  }

  /**
   * Statements on SQLite: begin, one read of the draft with the account's allowance and count, the
   * draft's index rows and row deleted, the insert, the index rows (if any), commit.
   */
  async completeDraft(
    accountId: string,
    id: string,
    c: DraftCompletion,
    now: number,
  ): Promise<CompleteDraftResult> {
    if (!nameable(accountId, id)) return 'gone';
    return this.db.transaction().execute(async (trx) => {
      await this.lockAccount(trx, accountId);
      const draft = await trx
        .selectFrom('images')
        .selectAll()
        .select((eb) => [
          eb.selectFrom('accounts').select('allowance').where('id', '=', accountId).as('account_allowance'),
          eb
            .selectFrom('images as counted')
            .select(eb.fn.countAll().as('n'))
            .where('counted.account_id', '=', accountId)
            .where('counted.draft', '=', 0)
            .as('account_images'),
        ])
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .where('draft', '=', 1)
        .executeTakeFirst();
      if (!draft || (draft.expires_at !== null && Number(draft.expires_at) < now)) return 'gone';
      if (draft.account_allowance !== null && Number(draft.account_images) >= Number(draft.account_allowance))
        return 'quota';
      // The completed image takes a fresh position, so lists (ordered by position) follow upload time.
      const image: ImageRecord = {
        ...toImage(draft),
        ...c,
        draft: false,
        expiresAt: null,
        version: Number(draft.version) + 1,
      };
      await trx.deleteFrom('image_meta').where('image_seq', '=', draft.seq).execute();
      await trx.deleteFrom('images').where('seq', '=', draft.seq).execute();
      const row = fromImage(image);
      const inserted = await trx.insertInto('images').values(row).returning('seq').executeTakeFirstOrThrow();
      await writeMetaIndex(trx, accountId, Number(inserted.seq), image.meta, true);
      // Through the row mapping, so the answer is exactly what a read would give.
      return toImage({ ...row, seq: inserted.seq });
    });
  }

  async deleteExpiredDrafts(now: number): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('images')
        .select('seq')
        .where('draft', '=', 1)
        .where('expires_at', '<', now)
        .limit(1000)
        .execute();
      if (rows.length === 0) return 0;
      const seqs = rows.map((r) => r.seq);
      await trx.deleteFrom('image_meta').where('image_seq', 'in', seqs).execute();
      await trx.deleteFrom('images').where('seq', 'in', seqs).execute();
      return rows.length;
    });
  }

  async countImages(accountId: string): Promise<number> {
    return countIn(this.db, accountId);
  }

  async *referencedBlobKeys(): AsyncIterable<string> {
    let after = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('images')
        .select(['seq', 'blob_key'])
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(1000)
        .execute();
      if (rows.length === 0) return;
      for (const r of rows) if (r.blob_key) yield r.blob_key;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  async listVariants(accountId: string): Promise<VariantRecord[]> {
    const rows = await this.db
      .selectFrom('variants')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('seq')
      .execute();
    return rows.map(toVariant);
  }

  async getVariant(accountId: string, id: string): Promise<VariantRecord | null> {
    if (!nameable(accountId, id)) return null;
    const row = await this.db
      .selectFrom('variants')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toVariant(row) : null;
  }

  async insertVariant(variant: VariantRecord, maxVariants: number): Promise<InsertVariantResult> {
    return this.db.transaction().execute(async (trx) => {
      await this.lockAccount(trx, variant.accountId);
      const rows = await trx
        .selectFrom('variants')
        .select(['id', 'seq'])
        .where('account_id', '=', variant.accountId)
        .execute();
      if (rows.some((r) => r.id === variant.id)) return 'exists';
      if (rows.length >= maxVariants) return 'limit';
      const seq = rows.reduce((m, r) => Math.max(m, Number(r.seq)), 0) + 1;
      await trx.insertInto('variants').values(fromVariant(variant, seq)).execute();
      return 'ok';
    });
  }

  async updateVariant(
    accountId: string,
    id: string,
    patch: Pick<VariantRecord, 'options'> & Partial<Pick<VariantRecord, 'neverRequireSignedURLs'>>,
  ): Promise<VariantRecord | null> {
    if (!nameable(accountId, id)) return null;
    const values: Partial<VariantsTable> = { options: JSON.stringify(patch.options) };
    if (patch.neverRequireSignedURLs !== undefined)
      values.never_require_signed = patch.neverRequireSignedURLs ? 1 : 0;
    await this.changing(
      (trx) =>
        trx
          .updateTable('variants')
          .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
          .where('account_id', '=', accountId)
          .where('id', '=', id)
          .executeTakeFirst(),
      (r) => Number(r.numUpdatedRows) > 0,
    );
    return this.getVariant(accountId, id);
  }

  async deleteVariant(accountId: string, id: string): Promise<boolean> {
    if (!nameable(accountId, id)) return false;
    const res = await this.changing(
      (trx) =>
        trx
          .deleteFrom('variants')
          .where('account_id', '=', accountId)
          .where('id', '=', id)
          .executeTakeFirst(),
      (r) => Number(r.numDeletedRows) > 0,
    );
    return Number(res.numDeletedRows) > 0;
  }

  async listKeys(accountId: string): Promise<SigningKey[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('seq')
      .execute();
    return rows.map(toKey);
  }

  async putKey(key: SigningKey, opts: { replaceValue?: boolean } = {}): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await this.lockAccount(trx, key.accountId);
      const rows = await trx
        .selectFrom('signing_keys')
        .select(['name', 'seq'])
        .where('account_id', '=', key.accountId)
        .execute();
      if (rows.some((r) => r.name === key.name)) {
        if (opts.replaceValue) {
          await trx
            .updateTable('signing_keys')
            .set({ value: key.value })
            .where('account_id', '=', key.accountId)
            .where('name', '=', key.name)
            .execute();
        }
        return;
      }
      const seq = rows.reduce((m, r) => Math.max(m, Number(r.seq)), 0) + 1;
      await trx.insertInto('signing_keys').values(fromKey(key, seq)).execute();
    });
  }

  async deleteKey(accountId: string, name: string, replacement: SigningKey): Promise<boolean> {
    if (!nameable(accountId, name)) return false;
    return this.db.transaction().execute(async (trx) => {
      await this.lockAccount(trx, accountId);
      const res = await trx
        .deleteFrom('signing_keys')
        .where('account_id', '=', accountId)
        .where('name', '=', name)
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) return false;
      const left = await trx
        .selectFrom('signing_keys')
        .select('name')
        .where('account_id', '=', accountId)
        .execute();
      if (left.length === 0) await trx.insertInto('signing_keys').values(fromKey(replacement, 1)).execute();
      return true;
    });
  }
}

async function countIn(db: Kysely<Database>, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('images')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('account_id', '=', accountId)
    .where('draft', '=', 0)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

function fromAccount(a: Account): AccountsTable {
  return {
    id: a.id,
    hash: a.hash,
    allowance: a.allowance,
    flexible_variants: a.flexibleVariants ? 1 : 0,
    browser_ttl: a.browserTtl,
    created_at: a.createdAt,
  };
}

function fromVariant(v: VariantRecord, seq: number): VariantsTable {
  return {
    account_id: v.accountId,
    id: v.id,
    options: JSON.stringify(v.options),
    never_require_signed: v.neverRequireSignedURLs ? 1 : 0,
    version: v.version,
    created_at: v.createdAt,
    seq,
  };
}

function fromKey(k: SigningKey, seq: number): SigningKeysTable {
  return { account_id: k.accountId, name: k.name, value: k.value, created_at: k.createdAt, seq };
}
