/**
 * PostgreSQL for tests: `PICTOR_TEST_DATABASE_URL` or the local server these machines run
 * (postgres://postgres@127.0.0.1:5432/test). When it cannot be reached, the PostgreSQL suites skip
 * with one line, except under CI (`CI` set), where they fail: CI must run them.
 */
import pg from 'pg';

export const TEST_DATABASE_URL =
  process.env.PICTOR_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let probed: Promise<boolean> | undefined;

/** Whether PostgreSQL answers; under CI an unreachable server is an error. */
export function postgresAvailable(): Promise<boolean> {
  probed ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch (e) {
      if (process.env.CI)
        throw new Error(
          `PostgreSQL is required under CI but ${TEST_DATABASE_URL} did not answer: ${String(e)}`,
        );
      process.stderr.write(
        `PostgreSQL suites skipped: ${TEST_DATABASE_URL} did not answer (${(e as Error).message})\n`,
      );
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return probed;
}

/** Drops a schema created by a test. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
