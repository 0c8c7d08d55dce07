/**
 * The Pictor extensions that keep migrated URLs working (docs/compat.md "Pictor extensions"):
 * PICTOR_ACCOUNT_HASH at first start, PUT keys/{name} with {"value"}, and an upload's `uploaded` time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const HASH = 'Abcdefghij_klmnop-1234';

let srv: TestServer;
let png: Buffer;

async function call(
  method: string,
  path: string,
  body?: unknown,
  token = srv.token,
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${srv.apiBase}/accounts/${srv.accountId}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

async function uploadWith(fields: Record<string, string>): Promise<{ status: number; json: any }> {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(png)]), 'x.png');
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const res = await fetch(`${srv.apiBase}/accounts/${srv.accountId}/images/v1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${srv.token}` },
    body: form,
  });
  return { status: res.status, json: await res.json() };
}

beforeAll(async () => {
  srv = await startTestServer({ PICTOR_ACCOUNT_HASH: HASH });
  png = await makeImage('png', 16, 16);
});
afterAll(() => srv.close());

describe('PICTOR_ACCOUNT_HASH', () => {
  it('the account created at first start has the given hash', async () => {
    const up = await uploadWith({ id: 'hash-check' });
    expect(up.status).toBe(200);
    expect(up.json.result.variants[0]).toContain(`/cdn-cgi/imagedelivery/${HASH}/hash-check/`);
  });
});

describe('PUT /images/v1/keys/{name} with {"value"}', () => {
  it('creates a key with exactly that value, and replaces the value of an existing key', async () => {
    const created = await call('PUT', '/images/v1/keys/migrated', { value: 'source-secret-value-0001' });
    expect(created.status).toBe(200);
    expect(created.json.result.keys).toContainEqual({ name: 'migrated', value: 'source-secret-value-0001' });
    const replaced = await call('PUT', '/images/v1/keys/default', { value: 'source-default-value-0002' });
    expect(replaced.json.result.keys).toContainEqual({ name: 'default', value: 'source-default-value-0002' });
    expect(replaced.json.result.keys.filter((k: { name: string }) => k.name === 'default')).toHaveLength(1);
  });

  it('without a value stays Cloudflare’s PUT: a random value, an existing key kept', async () => {
    const first = await call('PUT', '/images/v1/keys/plain');
    const value = first.json.result.keys.find((k: { name: string }) => k.name === 'plain').value as string;
    expect(value.length).toBeGreaterThanOrEqual(32);
    const again = await call('PUT', '/images/v1/keys/plain', {});
    expect(again.json.result.keys).toContainEqual({ name: 'plain', value });
  });

  it('refuses a value of the wrong shape with a Cloudflare-style 400', async () => {
    for (const value of ['short', 42, 'x'.repeat(257), 'has space in it 0123456789']) {
      const res = await call('PUT', '/images/v1/keys/bad', { value });
      expect(res.status, JSON.stringify(value)).toBe(400);
      expect(res.json.success).toBe(false);
      expect(res.json.errors[0].code).toBe(5400);
      expect(res.json.errors[0].message).toMatch(/value/);
    }
    expect(
      (await call('GET', '/images/v1/keys')).json.result.keys.map((k: { name: string }) => k.name),
    ).not.toContain('bad');
  });
});

describe('upload with `uploaded`', () => {
  it('keeps the given time', async () => {
    const up = await uploadWith({ id: 'old-one', uploaded: '2021-03-04T05:06:07.890Z' });
    expect(up.status).toBe(200);
    expect(up.json.result.uploaded).toBe('2021-03-04T05:06:07.890Z');
    const details = await call('GET', '/images/v1/old-one');
    expect(details.json.result.uploaded).toBe('2021-03-04T05:06:07.890Z');
  });

  it('refuses a time that is not ISO 8601', async () => {
    for (const uploaded of ['yesterday', '2021-13-45T00:00:00Z', '1614834367']) {
      const up = await uploadWith({ id: `bad-time-${uploaded.length}`, uploaded });
      expect(up.status, uploaded).toBe(400);
      expect(up.json.errors[0].code).toBe(5400);
      expect(up.json.errors[0].message).toMatch(/uploaded/);
    }
  });
});
