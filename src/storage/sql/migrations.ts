/**
 * Versioned migrations, written once with Kysely's schema builder so they mean the same in SQLite and
 * PostgreSQL. Kysely's Migrator records applied versions in `kysely_migration` and takes a lock, so
 * running them twice (or from two nodes at once on PostgreSQL) is safe.
 */
import { flattenMeta } from './meta-index.js';
import type { Kysely, Migration, MigrationProvider } from 'kysely';

export type SqlDialectName = 'sqlite' | 'postgres';

function migrations(dialect: SqlDialectName): Record<string, Migration> {
  // Integers that hold milliseconds or byte sizes need 64 bits in PostgreSQL.
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    '0001_initial': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('accounts')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('hash', 'text', (c) => c.notNull().unique())
          .addColumn('allowance', big, (c) => c.notNull())
          .addColumn('flexible_variants', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('browser_ttl', 'integer', (c) => c.notNull())
          .addColumn('created_at', big, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('credentials')
          .ifNotExists()
          .addColumn('secret_hash', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('email', 'text')
          .addColumn('permissions', 'text', (c) => c.notNull())
          .addColumn('account_ids', 'text', (c) => c.notNull())
          .addColumn('label', 'text', (c) => c.notNull())
          .addColumn('created_at', big, (c) => c.notNull())
          .execute();
        let images = db.schema.createTable('images').ifNotExists();
        images =
          dialect === 'postgres'
            ? images.addColumn('seq', 'bigserial', (c) => c.primaryKey())
            : images.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
        await images
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('filename', 'text')
          .addColumn('meta', 'text')
          .addColumn('creator', 'text')
          .addColumn('require_signed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('uploaded', big, (c) => c.notNull())
          .addColumn('blob_key', 'text')
          .addColumn('content_type', 'text')
          .addColumn('format', 'text')
          .addColumn('size', big, (c) => c.notNull().defaultTo(0))
          .addColumn('width', 'integer')
          .addColumn('height', 'integer')
          .addColumn('draft', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('expires_at', big)
          .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
          .addUniqueConstraint('images_account_id_uq', ['account_id', 'id'])
          .execute();
        await db.schema
          .createIndex('images_account_seq')
          .ifNotExists()
          .on('images')
          .columns(['account_id', 'draft', 'seq'])
          .execute();
        await db.schema
          .createIndex('images_account_creator_seq')
          .ifNotExists()
          .on('images')
          .columns(['account_id', 'creator', 'draft', 'seq'])
          .execute();
        await db.schema
          .createTable('variants')
          .ifNotExists()
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('options', 'text', (c) => c.notNull())
          .addColumn('never_require_signed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('created_at', big, (c) => c.notNull())
          .addColumn('seq', big, (c) => c.notNull())
          .addPrimaryKeyConstraint('variants_pk', ['account_id', 'id'])
          .execute();
        await db.schema
          .createTable('signing_keys')
          .ifNotExists()
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('created_at', big, (c) => c.notNull())
          .addColumn('seq', big, (c) => c.notNull())
          .addPrimaryKeyConstraint('signing_keys_pk', ['account_id', 'name'])
          .execute();
      },
      async down(db: Kysely<any>) {
        for (const t of ['signing_keys', 'variants', 'images', 'credentials', 'accounts']) {
          await db.schema.dropTable(t).ifExists().execute();
        }
      },
    },
    '0002_image_meta': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('image_meta')
          .ifNotExists()
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('image_seq', big, (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('s', 'text')
          .addColumn('n', dialect === 'postgres' ? 'double precision' : 'real')
          .addColumn('b', 'integer')
          .execute();
        await db.schema
          .createIndex('image_meta_s')
          .ifNotExists()
          .on('image_meta')
          .columns(['account_id', 'path', 's', 'image_seq'])
          .execute();
        await db.schema
          .createIndex('image_meta_n')
          .ifNotExists()
          .on('image_meta')
          .columns(['account_id', 'path', 'n', 'image_seq'])
          .execute();
        await db.schema
          .createIndex('image_meta_b')
          .ifNotExists()
          .on('image_meta')
          .columns(['account_id', 'path', 'b', 'image_seq'])
          .execute();
        await db.schema
          .createIndex('image_meta_image')
          .ifNotExists()
          .on('image_meta')
          .columns(['image_seq'])
          .execute();
        // Backfill from rows written before this migration.
        let after = 0;
        for (;;) {
          const rows = await db
            .selectFrom('images')
            .select(['seq', 'account_id', 'meta'])
            .where('seq', '>', after)
            .where('meta', 'is not', null)
            .orderBy('seq')
            .limit(1000)
            .execute();
          if (rows.length === 0) break;
          for (const r of rows) {
            const meta = JSON.parse(r.meta as string) as Record<string, unknown>;
            const flat = flattenMeta(r.account_id as string, Number(r.seq), meta);
            if (flat.length > 0) await db.insertInto('image_meta').values(flat).execute();
          }
          after = Number(rows[rows.length - 1]!.seq);
        }
      },
      async down(db: Kysely<any>) {
        await db.schema.dropTable('image_meta').ifExists().execute();
      },
    },
    '0003_credential_expiry': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('credentials').addColumn('expires_at', big).execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.alterTable('credentials').dropColumn('expires_at').execute();
      },
    },
    // Facts delivery plans from (oriented size, frames, alpha, EXIF copyright), read once at upload.
    // Rows written before have them null; delivery reads the header once and records them
    // (MetadataStore.setImageFacts), since a migration cannot read blobs.
    '0004_image_facts': {
      async up(db: Kysely<any>) {
        // SQLite adds one column per ALTER TABLE.
        for (const [name, type] of [
          ['oriented_width', 'integer'],
          ['oriented_height', 'integer'],
          ['frames', 'integer'],
          ['alpha', 'integer'],
          ['copyright', 'text'],
        ] as const) {
          await db.schema.alterTable('images').addColumn(name, type).execute();
        }
      },
      async down(db: Kysely<any>) {
        for (const name of ['oriented_width', 'oriented_height', 'frames', 'alpha', 'copyright']) {
          await db.schema.alterTable('images').dropColumn(name).execute();
        }
      },
    },
    // The SVG sanitiser version that cleaned each stored SVG. Rows written before it stay null (the
    // first sanitiser): such an SVG is cleaned again on its first blob read or delivery.
    '0004_svg_sanitizer_version': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('images').addColumn('svg_sanitizer', 'integer').execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.alterTable('images').dropColumn('svg_sanitizer').execute();
      },
    },
  };
}

/** The migration list for one dialect, in a form Kysely's Migrator accepts. */
export function migrationProvider(dialect: SqlDialectName): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
