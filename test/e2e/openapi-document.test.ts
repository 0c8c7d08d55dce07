/**
 * The OpenAPI document Pictor serves: `GET /client/v4/openapi.json` answers without credentials,
 * validates as OpenAPI 3 (@apidevtools/swagger-parser), names every operation of Cloudflare's
 * extract (../shared/spec/cloudflare-images.openapi.json, or the copy in test/fixtures) with the same
 * path and method, and its success schema for each accepts a body built from the extract's own
 * examples. `/docs` serves the reader for it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv } from 'ajv';
import addFormatsImport, { type FormatsPlugin } from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const addFormats = ((addFormatsImport as unknown as { default?: FormatsPlugin }).default ??
  addFormatsImport) as FormatsPlugin;

type Schema = Record<string, unknown>;
type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, { schema: Schema }> }> }>
  >;
  components?: { schemas?: Record<string, Schema> };
};

const SHARED_SPEC = fileURLToPath(
  new URL('../../../shared/spec/cloudflare-images.openapi.json', import.meta.url),
);
const SPEC_PATH = existsSync(SHARED_SPEC)
  ? SHARED_SPEC
  : fileURLToPath(new URL('../fixtures/cloudflare-images.openapi.json', import.meta.url));
const SPEC = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Doc;
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

const operations = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((m) => METHODS.includes(m))
      .map((m) => `${m.toUpperCase()} ${path}`),
  );

/** A body built from the extract's schema: each value its `example`, else a plain value of its type. */
function sample(schema: Schema): unknown {
  if (typeof schema.$ref === 'string')
    return sample(SPEC.components!.schemas![schema.$ref.split('/').pop()!]!);
  if ('example' in schema) return schema.example;
  if (Array.isArray(schema.allOf))
    return Object.assign({}, ...schema.allOf.map((s) => sample(s as Schema) as object));
  if (Array.isArray(schema.anyOf ?? schema.oneOf))
    return sample(((schema.anyOf ?? schema.oneOf) as Schema[])[0]!);
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.properties)
    return Object.fromEntries(
      Object.entries(schema.properties as Record<string, Schema>).map(([k, v]) => [k, sample(v)]),
    );
  switch (schema.type) {
    case 'array':
      return [sample(schema.items as Schema)];
    case 'string':
      return schema.format === 'date-time' ? '2014-01-02T02:20:00.123Z' : 'x';
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'object':
      return {};
    default:
      return null;
  }
}

let srv: TestServer;
let doc: Doc;

beforeAll(async () => {
  srv = await startTestServer();
  const res = await fetch(`${srv.apiBase}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = (await res.json()) as Doc;
});
afterAll(() => srv?.close());

describe('GET /client/v4/openapi.json', () => {
  it('answers without credentials and validates as OpenAPI 3', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    const api = await SwaggerParser.validate(structuredClone(doc) as never);
    expect(operations(api as unknown as Doc).length).toBeGreaterThanOrEqual(29);
  });

  it('has every operation of the Cloudflare extract, with the same path and method', () => {
    const ours = new Set(operations(doc));
    const missing = operations(SPEC).filter((op) => !ours.has(op));
    expect(operations(SPEC).length).toBe(17);
    expect(missing).toEqual([]);
  });

  it("documents Pictor's extensions: v2 list, direct creator upload, the one-time URL, batch and config", () => {
    const ours = new Set(operations(doc));
    for (const op of [
      'GET /accounts/{account_id}/images/v1/config',
      'PATCH /accounts/{account_id}/images/v1/config',
      'GET /accounts/{account_id}/images/v1/batch_token',
      'POST /upload/{account_hash}/{image_id}',
      'POST /images/v1',
      'GET /images/v2',
      'PATCH /images/v1/{image_id}',
      'POST /images/v2/direct_upload',
    ]) {
      expect(ours, op).toContain(op);
    }
  });

  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  it.each(operations(SPEC))(
    '%s: our success schema accepts a body built from the extract’s examples',
    (op) => {
      const [method, path] = op.split(' ') as [string, string];
      const theirs =
        SPEC.paths[path]![method.toLowerCase()]!.responses!['200']!.content?.['application/json'];
      const ours = doc.paths[path]![method.toLowerCase()]!.responses!['200']!.content;
      if (!theirs) {
        // The blob: bytes, not JSON.
        expect(Object.keys(ours ?? {})).toEqual(['image/*']);
        return;
      }
      const body = sample(theirs.schema);
      const validate = ajv.compile(ours!['application/json']!.schema);
      expect(validate(body), `${JSON.stringify(validate.errors)}\n${JSON.stringify(body)}`).toBe(true);
    },
  );
});

describe('/docs', () => {
  it('serves the API reader, which loads /client/v4/openapi.json', async () => {
    const res = await fetch(`${srv.url}/docs`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('swagger-ui');
    const init = await fetch(`${srv.url}/docs/static/swagger-initializer.js`);
    expect(init.status).toBe(200);
    expect(await init.text()).toContain('/client/v4/openapi.json');
  });
});
