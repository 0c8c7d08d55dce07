/**
 * The wire layer in process (Fastify's `app.inject`, no port): route schemas refuse bad input with
 * the validation sentence inside the Cloudflare envelope, response schemas shape the bodies, and the
 * OpenAPI document is served without credentials.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { buildApp } from './app.js';
import { compose, type Composition } from './compose.js';

const ACCOUNT = '023e105f4ecef8ad9ca31a8372d0c353';
let dir: string;
let c: Composition;
let app: FastifyInstance;
let token: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pictor-wire-'));
  c = await compose(loadConfig({ PICTOR_DATA_DIR: dir, LOG_LEVEL: 'silent' }));
  await c.api.accounts.create({ id: ACCOUNT });
  token = (
    await c.api.accounts.issueToken({ accountIds: [ACCOUNT], permissions: ['read', 'write'], label: 'wire' })
  ).token;
  app = await buildApp({ api: c.api, delivery: c.delivery, logger: false });
});
afterAll(async () => {
  await app?.close();
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

const inject = (method: 'GET' | 'PATCH' | 'POST' | 'PUT', url: string, payload?: unknown) =>
  app.inject({
    method,
    url: `/client/v4/accounts/${ACCOUNT}${url}`,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

describe('schemas at the wire', () => {
  it.each([
    [
      'PATCH',
      '/images/v1/config',
      { browser_ttl: 5 },
      'ERROR 5400: Expected integer between 3600 and 31536000 for browser_ttl but received 5 of type number',
    ],
    [
      'PATCH',
      '/images/v1/config',
      { flexible_variants: 'yes' },
      'ERROR 5400: Expected boolean for flexible_variants but received yes of type string',
    ],
    [
      'PATCH',
      '/images/v1/config',
      [1],
      'ERROR 5400: Expected JSON object for body but received [1] of type array',
    ],
    [
      'POST',
      '/images/v1/variants',
      { options: {} },
      'ERROR 5400: Expected 1 to 99 letters or digits for id but received undefined of type undefined',
    ],
    [
      'POST',
      '/images/v1/variants',
      { id: 'ok' },
      'ERROR 5400: Expected object for options but received undefined of type undefined',
    ],
    [
      'PUT',
      '/images/v1/keys/not-ok',
      undefined,
      'ERROR 5400: Expected 1 to 20 letters or digits for signing_key_name but received not-ok of type string',
    ],
    [
      'GET',
      '/images/v1?per_page=ten',
      undefined,
      'ERROR 5400: Expected integer (at most 11 digits) for per_page but received ten of type string',
    ],
    [
      'GET',
      '/images/v2?sort_order=up',
      undefined,
      'ERROR 5400: Expected asc or desc for sort_order but received up of type string',
    ],
    [
      'POST',
      '/images/v2/direct_upload',
      { requireSignedURLs: 'maybe' },
      'ERROR 5400: Expected boolean for requireSignedURLs but received maybe of type string',
    ],
    ['POST', '/images/v2/direct_upload', { metadata: 5 }, 'ERROR 5400: Metadata must be a JSON object'],
  ] as const)('%s %s %j → 400 with the sentence', async (method, url, body, message) => {
    const res = await inject(method, url, body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      result: null,
      success: false,
      errors: [{ code: 5400, message }],
      messages: [],
    });
  });

  it('a valid PATCH passes the schema and the body is serialised through the response schema', async () => {
    const res = await inject('PATCH', '/images/v1/config', { browser_ttl: 7200, unknown: 'ignored' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      result: { flexible_variants: false, browser_ttl: 7200 },
      success: true,
      errors: [],
      messages: [],
    });
  });

  it('GET /client/v4/openapi.json needs no credentials', async () => {
    const res = await app.inject({ method: 'GET', url: '/client/v4/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.json().openapi).toBe('3.1.0');
  });
});
