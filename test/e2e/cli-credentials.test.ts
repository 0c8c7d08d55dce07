/**
 * `pictor account create --hash`, `account list`, `token list`, `token revoke` against the database of
 * a running server: a revoked token is refused by that server on its next request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_TOKEN, type TestServer } from '../helpers/server.js';
import { cli } from '../helpers/transfer.js';
import { hashSecret } from '../../src/core/ids.js';

let srv: TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  srv = await startTestServer();
  env = { ...srv.backendEnv, PICTOR_DATA_DIR: srv.dataDir };
}, 60_000);
afterAll(() => srv.close());

const stats = (token: string) =>
  fetch(`${srv.apiBase}/accounts/${srv.accountId}/images/v1/stats`, {
    headers: { authorization: `Bearer ${token}` },
  });

describe('pictor token list / revoke', () => {
  it('lists ids, permissions and creation times without secrets; a revoked token is refused by the running server at once', async () => {
    const created = await cli(['token', 'create', '--account', srv.accountId, '--read-only'], env);
    expect(created.code, created.stderr).toBe(0);
    const { token } = JSON.parse(created.stdout) as { token: string };
    expect((await stats(token)).status).toBe(200);

    const listed = await cli(['token', 'list', '--account', srv.accountId], env);
    expect(listed.code, listed.stderr).toBe(0);
    const tokens = JSON.parse(listed.stdout) as Array<{
      id: string;
      permissions: string[];
      createdAt: string;
      label: string;
    }>;
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    for (const t of tokens) {
      expect(t.id).toMatch(/^[0-9a-f]{32}$/);
      expect(Number.isFinite(Date.parse(t.createdAt))).toBe(true);
    }
    // Never the secret, nor its full hash.
    for (const secret of [token, TEST_TOKEN, hashSecret(token), hashSecret(TEST_TOKEN)])
      expect(listed.stdout).not.toContain(secret);
    const mine = tokens.find((t) => t.id === hashSecret(token).slice(0, 32))!;
    expect(mine.permissions).toEqual(['read']);

    const revoked = await cli(['token', 'revoke', mine.id], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    const refused = await stats(token);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { errors: Array<{ code: number }> }).errors[0]!.code).toBe(9109);
    // The other tokens still work; the revoked one is gone from the list.
    expect((await stats(TEST_TOKEN)).status).toBe(200);
    const after = JSON.parse(
      (await cli(['token', 'list', '--account', srv.accountId], env)).stdout,
    ) as Array<{ id: string }>;
    expect(after.map((t) => t.id)).not.toContain(mine.id);
    const again = await cli(['token', 'revoke', mine.id], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no token has the id ${mine.id}`);
  }, 120_000);
});

describe('pictor account create --hash / account list', () => {
  it('creates an account with the given hash, lists it, and refuses a malformed or taken hash', async () => {
    const hash = 'Migrated_Hash-0123456A';
    const created = await cli(['account', 'create', '--hash', hash], env);
    expect(created.code, created.stderr).toBe(0);
    const account = JSON.parse(created.stdout) as { accountId: string; accountHash: string };
    expect(account.accountHash).toBe(hash);
    const list = JSON.parse((await cli(['account', 'list'], env)).stdout) as Array<{
      id: string;
      hash: string;
    }>;
    expect(list).toContainEqual(expect.objectContaining({ id: account.accountId, hash }));
    expect(list).toContainEqual(expect.objectContaining({ id: srv.accountId }));
    const taken = await cli(['account', 'create', '--hash', hash], env);
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain(`An account with hash ${hash} already exists`);
    const bad = await cli(['account', 'create', '--hash', 'short'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('account hash');
  }, 120_000);
});
