/**
 * Inputs that once reached a 500 (issue #10, item 4), each answered with a clear 400 now: JSON bodies
 * nested thousands of levels deep on every JSON endpoint and in metadata, page and per_page values
 * beyond the safe integers, and an upload URL whose user info holds a malformed percent-escape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let imageId: string;

beforeAll(async () => {
  srv = await startTestServer({ PICTOR_URL_ALLOWLIST: '127.0.0.0/8' });
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(await makeImage('png', 16, 16))]), 'a.png');
  imageId = (await (await call('POST', '/images/v1', form)).json()).result.id;
});
afterAll(() => srv?.close());

function call(method: string, path: string, body?: BodyInit, type?: string): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${srv.token}` };
  if (type) headers['content-type'] = type;
  return fetch(`${srv.apiBase}/accounts/${srv.accountId}${path}`, { method, headers, body });
}

async function expect400(res: Response, message: RegExp): Promise<void> {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(400);
  expect(body.success).toBe(false);
  expect(body.result).toBeNull();
  expect(body.errors[0].code).toBe(5400);
  expect(body.errors[0].message).toMatch(message);
}

const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('JSON nesting depth', () => {
  const endpoints: Array<[string, string]> = [
    ['PATCH', '/images/v1/{id}'],
    ['PATCH', '/images/v1/config'],
    ['POST', '/images/v1/variants'],
    ['PATCH', '/images/v1/variants/public'],
    ['POST', '/images/v2/direct_upload'],
  ];
  it.each(endpoints)(
    '%s %s: 4,100 levels (8 KB) of objects and of arrays are a 400 naming the limit',
    async (method, path) => {
      await expect400(
        await call(method, path.replace('{id}', imageId), deep(4100), 'application/json'),
        /^ERROR 5400: Request body nests deeper than 32 levels$/,
      );
      await expect400(
        await call(method, path.replace('{id}', imageId), deepArray(4100), 'application/json'),
        /nests deeper than 32 levels/,
      );
    },
  );

  it('brackets inside strings do not count, and 32 levels are still accepted', async () => {
    const metadata = JSON.parse(deep(31));
    const res = await call(
      'PATCH',
      `/images/v1/${imageId}`,
      JSON.stringify({ metadata, note: '[[[[{{{{'.repeat(100) }),
      'application/json',
    );
    expect(res.status).toBe(200);
    expect((await res.json()).result.meta).toEqual(metadata);
  });

  it('metadata as deep JSON text in a multipart upload, and as deep metadata[a][b]… fields, is a 400', async () => {
    const png = await makeImage('png', 8, 8);
    const a = new FormData();
    a.set('file', new Blob([new Uint8Array(png)]), 'a.png');
    a.set('metadata', deep(2500)); // 15 KB, under the 16 KB form-field cap
    await expect400(await call('POST', '/images/v1', a), /Metadata nests deeper than 32 levels/);
    const b = new FormData();
    b.set('file', new Blob([new Uint8Array(png)]), 'a.png');
    b.set(`metadata${'[a]'.repeat(300)}`, 'x');
    await expect400(await call('POST', '/images/v1', b), /Metadata nests deeper than 32 levels/);
    const c = new FormData();
    c.set('metadata', deep(2500));
    await expect400(
      await call('POST', '/images/v2/direct_upload', c),
      /Metadata nests deeper than 32 levels/,
    );
    await expect400(
      await call(
        'POST',
        '/images/v2/direct_upload',
        JSON.stringify({ metadata: deep(4100) }),
        'application/json',
      ),
      /Metadata nests deeper than 32 levels/,
    );
  });
});

describe('page and per_page', () => {
  it.each([
    'page=999999999999999999999999999999',
    'page=9007199254740993&per_page=10000',
    'per_page=1e400',
    'page=900719925474099&per_page=10000',
  ])('GET /images/v1?%s is a 400 with the validation sentence', async (q) => {
    await expect400(
      await call('GET', `/images/v1?${q}`),
      /^ERROR 5400: Expected integer \(at most 11 digits\) for (page|per_page) but received \S+ of type string$/,
    );
  });

  it('GET /images/v2?per_page=1e400 is a 400', async () => {
    await expect400(
      await call('GET', '/images/v2?per_page=1e400'),
      /Expected integer \(at most 11 digits\) for per_page/,
    );
  });

  it('the largest page that fits still answers (an empty list)', async () => {
    const res = await call('GET', '/images/v1?page=99999999999&per_page=10000');
    expect(res.status).toBe(200);
    expect((await res.json()).result.images).toEqual([]);
  });
});

describe('upload by URL', () => {
  it('http://%zz@127.0.0.1:1/x is refused as an invalid URL, not a fetch failure', async () => {
    const form = new FormData();
    form.set('url', 'http://%zz@127.0.0.1:1/x');
    await expect400(await call('POST', '/images/v1', form), /^ERROR 5400: The url field is not a valid URL/);
  });
});

describe('NUL (U+0000) in stored text', () => {
  // PostgreSQL's text and jsonb cannot hold a NUL: it answered 503 5540 there and stored it on SQLite.
  // Now every backend refuses it in metadata and creators, and drops it from filenames.
  const png = async () => new Blob([new Uint8Array(await makeImage('png', 8, 8))]);

  it('metadata with a NUL in a value or a key is a 400 on upload, PATCH and direct upload', async () => {
    for (const meta of [{ a: 'x\u0000y' }, { 'k\u0000': 1 }, { a: { b: ['\u0000'] } }]) {
      const form = new FormData();
      form.set('file', await png(), 'a.png');
      form.set('metadata', JSON.stringify(meta));
      await expect400(await call('POST', '/images/v1', form), /^ERROR 5400: Metadata cannot contain the NUL/);
      await expect400(
        await call('PATCH', `/images/v1/${imageId}`, JSON.stringify({ metadata: meta }), 'application/json'),
        /Metadata cannot contain the NUL/,
      );
      const draft = new FormData();
      draft.set('metadata', JSON.stringify(meta));
      await expect400(
        await call('POST', '/images/v2/direct_upload', draft),
        /Metadata cannot contain the NUL/,
      );
    }
  });

  it('a creator with a NUL is a 400 on upload and PATCH', async () => {
    const form = new FormData();
    form.set('file', await png(), 'a.png');
    form.set('creator', 'a\u0000b');
    await expect400(await call('POST', '/images/v1', form), /^ERROR 5400: Creator cannot contain the NUL/);
    await expect400(
      await call(
        'PATCH',
        `/images/v1/${imageId}`,
        JSON.stringify({ creator: 'a\u0000b' }),
        'application/json',
      ),
      /Creator cannot contain the NUL/,
    );
  });

  it('a filename with control characters is stored without them', async () => {
    const form = new FormData();
    form.set('file', await png(), 'a\u0000b\u001f.png');
    const res = await call('POST', '/images/v1', form);
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.result.filename).toBe('ab.png');
  });
});
