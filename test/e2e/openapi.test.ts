/**
 * End-to-end: every success body of the Images v1 API, fetched raw, validated against the response
 * schemas of the OpenAPI extract (/work/shared/spec/cloudflare-images.openapi.json, OpenAPI 3.0.3)
 * with Ajv. The schema for an operation is the one its `responses['200']` names.
 *
 * The extract has three documented defects (digest §2.6, §2.8, §2.10, §3). They are patched, in a
 * copy of the document, at exactly the fragments below; a test checks that nothing else differs from
 * the original, so every other keyword validates as written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsImport, { type FormatsPlugin } from 'ajv-formats';
import { makeImage } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats = ((addFormatsImport as unknown as { default?: FormatsPlugin }).default ??
  addFormatsImport) as FormatsPlugin;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

// The spec lives in ../shared/spec beside the repository; a byte-identical copy is kept in
// test/fixtures so the suite also runs where shared/ is absent.
const SHARED_SPEC = fileURLToPath(
  new URL('../../../shared/spec/cloudflare-images.openapi.json', import.meta.url),
);
const SPEC_PATH = existsSync(SHARED_SPEC)
  ? SHARED_SPEC
  : fileURLToPath(new URL('../fixtures/cloudflare-images.openapi.json', import.meta.url));
const ORIGINAL: JsonObject = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as JsonObject;

const V1 = '/accounts/{account_id}/images/v1';
const V1_IMAGE = '/accounts/{account_id}/images/v1/{image_id}';
const V1_KEYS = '/accounts/{account_id}/images/v1/keys';
const V1_KEY = '/accounts/{account_id}/images/v1/keys/{signing_key_name}';
const V1_STATS = '/accounts/{account_id}/images/v1/stats';
const V1_VARIANTS = '/accounts/{account_id}/images/v1/variants';
const V1_VARIANT = '/accounts/{account_id}/images/v1/variants/{variant_id}';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

function obj(v: Json | undefined, where: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where} is not an object`);
  return v;
}

function operation(doc: JsonObject, path: string, method: Method): JsonObject {
  return obj(obj(obj(doc.paths, 'paths')[path], path)[method], `${method} ${path}`);
}

/**
 * The documented defects of the extract, each patched at exactly one fragment. `before` is the
 * value in the extract (checked, so a corrected spec makes this test fail loudly instead of silently
 * patching something else); `after` is the replacement.
 */
interface Patch {
  pointer: string[];
  before: Json | undefined;
  after: Json | undefined;
  why: string;
}

const PATCHES: Patch[] = [
  {
    // Digest §3: auto ids are UUIDs, 36 characters — the spec's own example
    // `107b9558-dd06-4bbd-5fef-9c2c16bb7900` is 36 — and §4.3: custom ids are up to 1,024 characters.
    pointer: ['components', 'schemas', 'images_image_identifier', 'maxLength'],
    before: 32,
    after: 1024,
    why: 'image id maxLength 32 < the 36-character UUID example; custom ids go up to 1024 (digest §3, §4.3)',
  },
  {
    // Digest §2.8: `^[a-zA-Z0-9]$` matches one character while the example is `someKey`; the
    // digest's reading is 1..20 letters or digits (maxLength 20).
    pointer: ['components', 'schemas', 'images_signing_key_identifier', 'pattern'],
    before: '^[a-zA-Z0-9]$',
    after: '^[a-zA-Z0-9]{1,20}$',
    why: 'signing key name pattern lacks its quantifier (digest §2.8)',
  },
  {
    // Digest §2.10: same missing quantifier on variant ids (example `hero`, maxLength 99).
    pointer: ['components', 'schemas', 'images_image_variant_identifier', 'pattern'],
    before: '^[a-zA-Z0-9]$',
    after: '^[a-zA-Z0-9]{1,99}$',
    why: 'variant id pattern lacks its quantifier (digest §2.10)',
  },
  {
    // Digest §2.6: the spec declares a required empty JSON body on DELETE; SDKs send none.
    pointer: ['paths', V1_IMAGE, 'delete', 'requestBody', 'required'],
    before: true,
    after: false,
    why: 'DELETE image declares a required (empty) request body (digest §2.6)',
  },
  {
    pointer: ['paths', V1_VARIANT, 'delete', 'requestBody', 'required'],
    before: true,
    after: false,
    why: 'DELETE variant declares a required (empty) request body (digest §2.6)',
  },
];

function getAt(doc: Json, pointer: string[]): Json | undefined {
  let node: Json | undefined = doc;
  for (const key of pointer) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = node[key];
  }
  return node;
}

function setAt(doc: JsonObject, pointer: string[], value: Json | undefined): void {
  const parent = obj(getAt(doc, pointer.slice(0, -1)), pointer.slice(0, -1).join('/'));
  const key = pointer[pointer.length - 1]!;
  if (value === undefined) delete parent[key];
  else parent[key] = value;
}

/** Every leaf path where two JSON values differ. */
function diff(a: Json | undefined, b: Json | undefined, at: string[] = []): string[][] {
  const isObj = (v: Json | undefined): v is JsonObject | Json[] => typeof v === 'object' && v !== null;
  if (!isObj(a) || !isObj(b) || Array.isArray(a) !== Array.isArray(b))
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [at];
  const ao = a as Record<string, Json>;
  const bo = b as Record<string, Json>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  return [...keys].flatMap((k) => diff(ao[k], bo[k], [...at, k]));
}

const DOC: JsonObject = structuredClone(ORIGINAL);
for (const p of PATCHES) setAt(DOC, p.pointer, p.after);

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(DOC, 'spec');

const validators = new Map<string, ValidateFunction>();

/** The validator of `components.schemas.<name>`. */
function schemaValidator(name: string): ValidateFunction {
  const ref = `spec#/components/schemas/${name}`;
  let v = validators.get(ref);
  if (!v) {
    v = ajv.compile({ $ref: ref });
    validators.set(ref, v);
  }
  return v;
}

/** The name of the JSON schema an operation's 200 response names. */
function responseSchemaName(path: string, method: Method): string {
  const op = operation(DOC, path, method);
  const ok = obj(obj(op.responses, 'responses')['200'], `${method} ${path} 200`);
  const schema = obj(
    obj(obj(ok.content, 'content')['application/json'], 'application/json').schema,
    'schema',
  );
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/components/schemas/'))
    throw new Error(`unexpected schema for ${method} ${path}`);
  return ref.slice('#/components/schemas/'.length);
}

function expectValid(validate: ValidateFunction, body: unknown, label: string): void {
  const valid = validate(body);
  expect(
    valid
      ? []
      : (validate.errors ?? []).map(
          (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
        ),
    label,
  ).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

let server: TestServer;
let accountBase: string;
let png: Buffer;

interface RawResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

interface RequestSpec {
  /** A JSON body. */
  json?: unknown;
  /** A multipart body. */
  form?: FormData;
}

/**
 * Sends a request for an operation of the spec and returns the parsed body. Before sending, checks
 * the request against the (patched) spec: a required body is present, and a JSON body matches the
 * operation's request schema — so the calls below are ones the spec describes.
 */
async function call(
  method: Method,
  specPath: string,
  concretePath: string,
  req: RequestSpec = {},
): Promise<RawResponse> {
  const op = operation(DOC, specPath, method);
  const requestBody = op.requestBody === undefined ? undefined : obj(op.requestBody, 'requestBody');
  const hasBody = req.json !== undefined || req.form !== undefined;
  if (requestBody?.required === true) expect(hasBody, `${method} ${specPath} requires a body`).toBe(true);
  if (req.json !== undefined) {
    const media = obj(obj(requestBody?.content, 'content')['application/json'], 'application/json');
    const schema = media.schema === undefined ? undefined : obj(media.schema, 'schema');
    if (schema && typeof schema.$ref === 'string') {
      expectValid(
        schemaValidator(schema.$ref.slice('#/components/schemas/'.length)),
        req.json,
        `request body of ${method} ${specPath}`,
      );
    }
  }
  const headers: Record<string, string> = {
    authorization: `Bearer ${server.token}`,
    accept: 'application/json',
  };
  let body: string | FormData | undefined;
  if (req.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(req.json);
  } else if (req.form !== undefined) body = req.form;
  const res = await fetch(`${accountBase}${concretePath}`, {
    method: method.toUpperCase(),
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // left as text; the assertions below report it
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Calls an operation, expects 200 + JSON, validates the body against its 200 schema, returns the body. */
async function ok(
  method: Method,
  specPath: string,
  concretePath: string,
  req: RequestSpec = {},
): Promise<Record<string, any>> {
  const res = await call(method, specPath, concretePath, req);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const name = responseSchemaName(specPath, method);
  expectValid(schemaValidator(name), res.body, `${method.toUpperCase()} ${specPath} → ${name}`);
  const body = res.body as Record<string, any>;
  expect(body.success).toBe(true);
  return body;
}

function uploadForm(
  data: Buffer,
  filename: string,
  fields: Record<string, string> = {},
  type = 'image/png',
): FormData {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(data)], { type }), filename);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

const enc = encodeURIComponent;

beforeAll(async () => {
  server = await startTestServer();
  accountBase = `${server.apiBase}/accounts/${server.accountId}`;
  png = await makeImage('png', 40, 30);
});

afterAll(async () => {
  await server?.close();
});

// ---------------------------------------------------------------------------------------------

describe('the patched spec', () => {
  it('differs from the extract only at the documented defects', () => {
    for (const p of PATCHES) expect(getAt(ORIGINAL, p.pointer), p.why).toEqual(p.before);
    const changed = diff(ORIGINAL, DOC).map((p) => p.join(' > '));
    expect(changed.sort()).toEqual(PATCHES.map((p) => p.pointer.join(' > ')).sort());
  });

  it('names a JSON 200 schema for every operation checked here', () => {
    const ops: Array<[string, Method, string]> = [
      [V1, 'post', 'images_image_response_single'],
      [V1, 'get', 'images_images_list_response'],
      [V1_IMAGE, 'get', 'images_image_response_single'],
      [V1_IMAGE, 'patch', 'images_image_response_single'],
      [V1_IMAGE, 'delete', 'images_deleted_response'],
      [V1_KEYS, 'get', 'images_image_key_response_collection'],
      [V1_KEY, 'put', 'images_image_key_response_collection'],
      [V1_KEY, 'delete', 'images_image_key_response_collection'],
      [V1_STATS, 'get', 'images_images_stats_response'],
      [V1_VARIANTS, 'get', 'images_image_variant_list_response'],
      [V1_VARIANTS, 'post', 'images_image_variant_simple_response'],
      [V1_VARIANT, 'get', 'images_image_variant_simple_response'],
      [V1_VARIANT, 'patch', 'images_image_variant_simple_response'],
      [V1_VARIANT, 'delete', 'images_deleted_response'],
    ];
    for (const [path, method, name] of ops)
      expect(responseSchemaName(path, method), `${method} ${path}`).toBe(name);
  });

  it('still rejects what it should (the validators are not vacuous)', () => {
    const single = schemaValidator('images_image_response_single');
    expect(
      single({ result: { id: 'x', variants: ['not a uri'] }, success: true, errors: [], messages: [] }),
    ).toBe(false);
    expect(
      single({ result: { id: 'x', uploaded: 'yesterday' }, success: true, errors: [], messages: [] }),
    ).toBe(false);
    expect(single({ result: { id: 'x'.repeat(1025) }, success: true, errors: [], messages: [] })).toBe(false);
    expect(single({ result: {}, success: true, errors: [] })).toBe(false);
    const variant = schemaValidator('images_image_variant_simple_response');
    const v = (variantBody: unknown) => ({
      result: { variant: variantBody },
      success: true,
      errors: [],
      messages: [],
    });
    expect(variant(v({ id: 'hero', options: { fit: 'cover', metadata: 'none', width: 1, height: 1 } }))).toBe(
      true,
    );
    expect(
      variant(v({ id: 'he-ro', options: { fit: 'cover', metadata: 'none', width: 1, height: 1 } })),
    ).toBe(false);
    expect(
      variant(v({ id: 'hero', options: { fit: 'stretch', metadata: 'none', width: 1, height: 1 } })),
    ).toBe(false);
    expect(variant(v({ id: 'hero', options: { fit: 'cover', metadata: 'none', width: 1 } }))).toBe(false);
    expect(variant(v({ id: 'hero', options: { fit: 'cover', metadata: 'none', width: 0, height: 1 } }))).toBe(
      false,
    );
  });
});

describe('images v1 success bodies', () => {
  const created: Array<Record<string, any>> = [];

  it('POST /images/v1 (upload): plain, with metadata + creator, private, custom ids, every format', async () => {
    const cases: Array<{ data: Buffer; name: string; type: string; fields?: Record<string, string> }> = [
      { data: png, name: 'plain.png', type: 'image/png' },
      {
        data: png,
        name: 'meta.png',
        type: 'image/png',
        fields: { metadata: JSON.stringify({ a: 'b', n: { c: 'd' } }), creator: 'alice' },
      },
      {
        data: png,
        name: 'bracket.png',
        type: 'image/png',
        fields: { 'metadata[a]': 'b', 'metadata[n][c]': 'd' },
      },
      { data: png, name: 'private.png', type: 'image/png', fields: { requireSignedURLs: 'true' } },
      { data: png, name: 'pic.png', type: 'image/png', fields: { id: 'folder/sub/pic.png' } },
      {
        data: png,
        name: 'beach.png',
        type: 'image/png',
        fields: { id: 'photos/2024/summer beach ü #1.png' },
      },
      { data: await makeImage('jpeg', 30, 20), name: 'photo.jpg', type: 'image/jpeg' },
      { data: await makeImage('webp', 30, 20), name: 'photo.webp', type: 'image/webp' },
      { data: await makeImage('gif', 30, 20), name: 'anim.gif', type: 'image/gif' },
      {
        data: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'),
        name: 'icon.svg',
        type: 'image/svg+xml',
      },
    ];
    for (const c of cases) {
      const body = await ok('post', V1, '/images/v1', { form: uploadForm(c.data, c.name, c.fields, c.type) });
      expect(body.result.filename).toBe(c.name);
      created.push(body.result);
    }
    expect(created[1]!.meta).toEqual({ a: 'b', n: { c: 'd' } });
    expect(created[2]!.meta).toEqual({ a: 'b', n: { c: 'd' } });
    expect(created[3]!.requireSignedURLs).toBe(true);
    expect(created[4]!.id).toBe('folder/sub/pic.png');
    expect(created[5]!.id).toBe('photos/2024/summer beach ü #1.png');
  });

  it.each([
    ['a PNG', () => png, 'image/png'],
    [
      'an SVG',
      () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"/>'),
      'image/svg+xml',
    ],
  ] as const)(
    'POST /images/v1 (upload) of %s whose file part has no filename',
    async (_label, data, type) => {
      // The spec's `file` is binary with no filename requirement; the Image's `filename` is a string.
      const boundary = 'pictor-e2e-boundary';
      const multipart = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"\r\nContent-Type: ${type}\r\n\r\n`,
        ),
        data(),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const res = await fetch(`${accountBase}/images/v1`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${server.token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
        },
        body: multipart,
      });
      const body = (await res.json()) as Record<string, any>;
      expect(res.status, JSON.stringify(body)).toBe(200);
      const id = body.result.id as string;
      try {
        expectValid(schemaValidator(responseSchemaName(V1, 'post')), body, 'upload without filename');
        const blob = await fetch(`${accountBase}/images/v1/${enc(id)}/blob`, {
          headers: { authorization: `Bearer ${server.token}` },
        });
        expect(Buffer.from(await blob.arrayBuffer()).equals(data())).toBe(true);
      } finally {
        // Not kept: the other tests count and list `created` only.
        await fetch(`${accountBase}/images/v1/${enc(id)}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${server.token}` },
        });
      }
    },
  );

  it('GET /images/v1 (list), with and without paging and the creator filter', async () => {
    const all = await ok('get', V1, '/images/v1');
    expect(all.result.images.length).toBe(created.length);
    const paged = await ok('get', V1, '/images/v1?page=1&per_page=10');
    expect(paged.result.images).toHaveLength(Math.min(10, created.length));
    const byCreator = await ok('get', V1, '/images/v1?creator=alice');
    expect(byCreator.result.images.map((i: { id: string }) => i.id)).toEqual([created[1]!.id]);
    await ok('get', V1, '/images/v1?page=99&per_page=10');
  });

  it('GET /images/v1/{image_id} (details) for every uploaded image', async () => {
    for (const image of created) {
      const body = await ok('get', V1_IMAGE, `/images/v1/${enc(image.id)}`);
      expect(body.result).toEqual(image);
    }
  });

  it('PATCH /images/v1/{image_id} (edit): metadata, creator, requireSignedURLs, empty body', async () => {
    const uuid = created[0]!.id as string;
    const custom = created[4]!.id as string;
    const a = await ok('patch', V1_IMAGE, `/images/v1/${enc(uuid)}`, { json: { metadata: { x: 'y' } } });
    expect(a.result.meta).toEqual({ x: 'y' });
    const b = await ok('patch', V1_IMAGE, `/images/v1/${enc(uuid)}`, { json: { requireSignedURLs: true } });
    expect(b.result.requireSignedURLs).toBe(true);
    const c = await ok('patch', V1_IMAGE, `/images/v1/${enc(custom)}`, {
      json: { metadata: { k: 1, nested: { deep: [1, 2] } }, creator: 'bob' },
    });
    expect(c.result.meta).toEqual({ k: 1, nested: { deep: [1, 2] } });
    expect(c.result.creator).toBe('bob');
    const d = await ok('patch', V1_IMAGE, `/images/v1/${enc(custom)}`, { json: {} });
    expect(d.result.meta).toEqual({ k: 1, nested: { deep: [1, 2] } });
  });

  it('GET /images/v1/{image_id}/blob answers image/* bytes (spec: image/* binary)', async () => {
    const res = await fetch(`${accountBase}/images/v1/${enc(created[4]!.id)}/blob`, {
      headers: { authorization: `Bearer ${server.token}`, accept: 'image/*' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\//);
    expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
  });

  it('DELETE /images/v1/{image_id} with no body, and with an empty JSON content type', async () => {
    const first = await ok('delete', V1_IMAGE, `/images/v1/${enc(created[0]!.id)}`);
    expect(first.result).toEqual({});
    // SDKs sometimes send a JSON content type without a body (app.ts accepts it).
    const res = await fetch(`${accountBase}/images/v1/${enc(created[5]!.id)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expectValid(
      schemaValidator(responseSchemaName(V1_IMAGE, 'delete')),
      await res.json(),
      'DELETE with empty JSON body',
    );
    const after = await ok('get', V1, '/images/v1');
    expect(after.result.images.length).toBe(created.length - 2);
  });
});

describe('signing keys success bodies', () => {
  it('GET /keys, PUT /keys/{name} (twice), DELETE /keys/{name}, DELETE the last key', async () => {
    const list = await ok('get', V1_KEYS, '/images/v1/keys');
    expect(list.result.keys.map((k: { name: string }) => k.name)).toEqual(['default']);
    const put = await ok('put', V1_KEY, '/images/v1/keys/someKey');
    expect(put.result.keys).toHaveLength(2);
    const again = await ok('put', V1_KEY, '/images/v1/keys/someKey');
    expect(again.result.keys).toEqual(put.result.keys);
    const del = await ok('delete', V1_KEY, '/images/v1/keys/someKey');
    expect(del.result.keys).toEqual(list.result.keys);
    const last = await ok('delete', V1_KEY, '/images/v1/keys/default');
    expect(last.result.keys).toHaveLength(1);
    expect(last.result.keys[0].name).toBe('default');
    expect(last.result.keys[0].value).not.toBe(list.result.keys[0].value);
  });
});

describe('stats success body', () => {
  it('GET /images/v1/stats', async () => {
    const body = await ok('get', V1_STATS, '/images/v1/stats');
    const listed = await ok('get', V1, '/images/v1');
    expect(body.result.count.current).toBe(listed.result.images.length);
    expect(body.result.count.allowed).toBe(100_000);
  });
});

describe('variants success bodies', () => {
  const heroDefinition = schemaValidator('images_image_variant_definition');

  it('GET, POST, GET one, PATCH and DELETE /images/v1/variants', async () => {
    const initial = await ok('get', V1_VARIANTS, '/images/v1/variants');
    expect(Object.keys(initial.result.variants)).toEqual(['public']);

    // `hero` is the one key the list schema names (images_image_variant_public_request), so creating
    // it makes the list schema check a real entry.
    const hero = {
      id: 'hero',
      options: { fit: 'cover', metadata: 'none', width: 1366, height: 768 },
      neverRequireSignedURLs: true,
    };
    const created = await ok('post', V1_VARIANTS, '/images/v1/variants', { json: hero });
    expect(created.result.variant).toEqual(hero);
    const thumb = { id: 'thumb2x', options: { fit: 'pad', metadata: 'keep', width: 200, height: 200 } };
    const created2 = await ok('post', V1_VARIANTS, '/images/v1/variants', { json: thumb });
    expect(created2.result.variant).toEqual({ ...thumb, neverRequireSignedURLs: false });

    const got = await ok('get', V1_VARIANT, '/images/v1/variants/hero');
    expect(got.result.variant).toEqual(hero);

    const list = await ok('get', V1_VARIANTS, '/images/v1/variants');
    expect(Object.keys(list.result.variants).sort()).toEqual(['hero', 'public', 'thumb2x']);
    // The list schema only names `hero`; every other entry must be a variant definition too.
    for (const [name, entry] of Object.entries(list.result.variants as Record<string, { id: string }>)) {
      expectValid(heroDefinition, entry, `variants.${name}`);
      expect(entry.id).toBe(name);
    }

    const patched = await ok('patch', V1_VARIANT, '/images/v1/variants/hero', {
      json: {
        options: { fit: 'scale-down', metadata: 'copyright', width: 640, height: 480 },
        neverRequireSignedURLs: false,
      },
    });
    expect(patched.result.variant).toEqual({
      id: 'hero',
      options: { fit: 'scale-down', metadata: 'copyright', width: 640, height: 480 },
      neverRequireSignedURLs: false,
    });

    // An image lists one URL per variant, all valid `uri`s (checked by the schema in ok()).
    const image = await ok('post', V1, '/images/v1', { form: uploadForm(png, 'with-variants.png') });
    expect(image.result.variants).toHaveLength(3);

    const deleted = await ok('delete', V1_VARIANT, '/images/v1/variants/thumb2x');
    expect(deleted.result).toEqual({});
    const deleted2 = await ok('delete', V1_VARIANT, '/images/v1/variants/hero');
    expect(deleted2.result).toEqual({});
    const final = await ok('get', V1_VARIANTS, '/images/v1/variants');
    expect(Object.keys(final.result.variants)).toEqual(['public']);
  });
});
