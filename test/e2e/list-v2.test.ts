/**
 * End-to-end: `GET /images/v2` (digest §2.3) against a real Pictor server over HTTP, with raw fetch
 * and, once, the official `cloudflare` SDK. Thirty images are uploaded in a known order with JSON
 * metadata (one `metadata` part holding JSON text) and creators; every listing is compared with the
 * answer computed from that local model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare from 'cloudflare';
import { type Envelope, type ImageJson, type Res, toRes } from '../helpers/api.js';
import { makeImage } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const COUNT = 30;
const STATUSES = ['active', 'pending', 'deleted'] as const;

interface ModelImage {
  index: number;
  id: string;
  creator: string | null;
  meta: {
    i: number;
    status: (typeof STATUSES)[number];
    even: boolean;
    code: string;
    label: string;
    region: { name: string; zone: { rack: { row: { slot: number } } } };
    tags: string[];
  };
}

type ListResult = { images: ImageJson[]; continuation_token: string | null };

let server: TestServer;
let png: Buffer;
/** Oldest first (upload order). */
const model: ModelImage[] = [];

function metaFor(i: number): ModelImage['meta'] {
  return {
    i,
    status: STATUSES[i % 3]!,
    even: i % 2 === 0,
    code: String(i % 5),
    label: `img-${i}`,
    region: { name: i < 15 ? 'eu-west' : 'us-east', zone: { rack: { row: { slot: i % 4 } } } },
    tags: [`t${i % 4}`, 'all'],
  };
}

function creatorFor(i: number): string | null {
  return i % 4 === 0 ? 'alice' : i % 4 === 1 ? 'bob' : null;
}

const auth = (): Record<string, string> => ({ authorization: `Bearer ${server.token}` });

/** GET /images/v2 with a raw query string (sent as written: brackets and pipes unencoded). */
async function listV2(query = ''): Promise<Res<ListResult>> {
  const url = `${server.apiBase}/accounts/${server.accountId}/images/v2${query === '' ? '' : `?${query}`}`;
  const res = await toRes<ListResult>(await fetch(url, { headers: auth() }));
  if (res.body === undefined) throw new Error(`not JSON (${res.status}): ${res.text}`);
  return res;
}

/** A successful page: status 200 and the success envelope. */
async function page(query = ''): Promise<ListResult> {
  const res = await listV2(query);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.success).toBe(true);
  return res.body.result;
}

const join = (...parts: string[]): string => parts.filter((p) => p !== '').join('&');

/** Follows continuation_token until null; returns every page. */
async function walk(query: string): Promise<ListResult[]> {
  const pages: ListResult[] = [];
  let token: string | null = null;
  for (let n = 0; n < 100; n++) {
    const p = await page(
      join(query, token === null ? '' : `continuation_token=${encodeURIComponent(token)}`),
    );
    pages.push(p);
    if (p.continuation_token === null) return pages;
    token = p.continuation_token;
  }
  throw new Error('walk did not end');
}

/** Ids of every image of a (walked) listing. */
async function ids(query: string): Promise<string[]> {
  return (await walk(query)).flatMap((p) => p.images.map((im) => im.id));
}

/** Model ids matching `pred`, newest first unless told otherwise. */
function expected(pred: (m: ModelImage) => boolean, order: 'asc' | 'desc' = 'desc'): string[] {
  const out = model.filter(pred).map((m) => m.id);
  return order === 'asc' ? out : out.reverse();
}

/** Expects a 400 with code 5400 in the failure envelope and the `ERROR 5400: ` prefix. */
async function expectBadRequest(query: string): Promise<string> {
  const res = await listV2(query);
  expect(res.status, `${query} → ${JSON.stringify(res.body)}`).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body.success).toBe(false);
  expect(res.body.result).toBeNull();
  expect(res.body.messages).toEqual([]);
  expect(res.body.errors).toHaveLength(1);
  expect(res.body.errors[0]!.code).toBe(5400);
  expect(res.body.errors[0]!.message.startsWith('ERROR 5400: ')).toBe(true);
  return res.body.errors[0]!.message;
}

async function uploadOne(i: number): Promise<ModelImage> {
  const meta = metaFor(i);
  const creator = creatorFor(i);
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), `img-${i}.png`);
  form.append('metadata', JSON.stringify(meta));
  if (creator !== null) form.append('creator', creator);
  const res = await fetch(`${server.apiBase}/accounts/${server.accountId}/images/v1`, {
    method: 'POST',
    headers: auth(),
    body: form,
  });
  const body = (await res.json()) as Envelope<ImageJson>;
  if (res.status !== 200) throw new Error(`upload ${i} failed: ${res.status} ${JSON.stringify(body)}`);
  expect(body.result.meta).toEqual(meta);
  expect(body.result.creator).toBe(creator);
  return { index: i, id: body.result.id, creator, meta };
}

beforeAll(async () => {
  server = await startTestServer({ PICTOR_IMAGE_ALLOWANCE: '1000' });
  png = await makeImage('png', 16, 12);
  // Sequential, so upload order is known.
  for (let i = 0; i < COUNT; i++) model.push(await uploadOne(i));
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('GET /images/v2: envelope and order', () => {
  it('answers the v2 collection envelope with every image, newest first by default', async () => {
    const res = await listV2();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = res.body;
    expect(body.success).toBe(true);
    expect(body.errors).toEqual([]);
    expect(body.messages).toEqual([]);
    expect(Object.keys(body.result).sort()).toEqual(['continuation_token', 'images']);
    expect(Array.isArray(body.result.images)).toBe(true);
    // Default per_page is 1000: everything fits, so there is no next page.
    expect(body.result.continuation_token).toBeNull();
    expect(body.result.images.map((im) => im.id)).toEqual(expected(() => true));

    const byId = new Map(model.map((m) => [m.id, m]));
    for (const im of body.result.images) {
      const m = byId.get(im.id)!;
      expect(m).toBeDefined();
      expect(im.filename).toBe(`img-${m.index}.png`);
      expect(im.meta).toEqual(m.meta);
      expect(im.creator).toBe(m.creator);
      expect(im.requireSignedURLs).toBe(false);
      expect(im.uploaded).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(im.draft).toBeUndefined();
      expect(im.variants.length).toBeGreaterThan(0);
      for (const v of im.variants) expect(() => new URL(v)).not.toThrow();
    }
    // Newest first by upload time.
    const times = body.result.images.map((im) => Date.parse(im.uploaded));
    for (let k = 1; k < times.length; k++) expect(times[k]).toBeLessThanOrEqual(times[k - 1]!);
  });

  it('sort_order=desc is the default; sort_order=asc is oldest first', async () => {
    const def = await page();
    const desc = await page('sort_order=desc');
    const asc = await page('sort_order=asc');
    expect(desc.images.map((im) => im.id)).toEqual(def.images.map((im) => im.id));
    expect(asc.images.map((im) => im.id)).toEqual(expected(() => true, 'asc'));
    const times = asc.images.map((im) => Date.parse(im.uploaded));
    for (let k = 1; k < times.length; k++) expect(times[k]).toBeGreaterThanOrEqual(times[k - 1]!);
  });
});

describe('GET /images/v2: continuation_token paging', () => {
  it('per_page=10 walks every image exactly once, newest first by default', async () => {
    const pages = await walk('per_page=10');
    expect(pages.map((p) => p.images.length)).toEqual([10, 10, 10]);
    // Non-null tokens on every page but the last, which (exactly full) ends with null.
    expect(pages.map((p) => p.continuation_token === null)).toEqual([false, false, true]);
    for (const p of pages.slice(0, -1)) {
      expect(typeof p.continuation_token).toBe('string');
      expect(p.continuation_token!.length).toBeGreaterThan(0);
    }
    const seen = pages.flatMap((p) => p.images.map((im) => im.id));
    expect(new Set(seen).size).toBe(COUNT);
    expect(seen).toEqual(expected(() => true));
  });

  it('per_page=10&sort_order=asc walks every image exactly once, oldest first', async () => {
    const pages = await walk('per_page=10&sort_order=asc');
    expect(pages.map((p) => p.images.length)).toEqual([10, 10, 10]);
    expect(pages.map((p) => p.continuation_token === null)).toEqual([false, false, true]);
    const seen = pages.flatMap((p) => p.images.map((im) => im.id));
    expect(new Set(seen).size).toBe(COUNT);
    expect(seen).toEqual(expected(() => true, 'asc'));
  });

  it('a page size that does not divide the total ends with a short last page', async () => {
    const pages = await walk('per_page=12&sort_order=asc');
    expect(pages.map((p) => p.images.length)).toEqual([12, 12, 6]);
    expect(pages.map((p) => p.continuation_token === null)).toEqual([false, false, true]);
    expect(pages.flatMap((p) => p.images.map((im) => im.id))).toEqual(expected(() => true, 'asc'));
  });

  it('continuation_token=null (as some clients send it) is the first page', async () => {
    expect((await page('per_page=10&continuation_token=null')).images.map((im) => im.id)).toEqual(
      expected(() => true).slice(0, 10),
    );
  });

  it('per_page is clamped to 10..10000', async () => {
    const small = await page('per_page=5');
    expect(small.images).toHaveLength(10);
    expect(small.continuation_token).not.toBeNull();
    expect(small.images.map((im) => im.id)).toEqual(expected(() => true).slice(0, 10));
    const pages = await walk('per_page=1');
    expect(pages.map((p) => p.images.length)).toEqual([10, 10, 10]);

    const big = await page('per_page=20000');
    expect(big.images).toHaveLength(COUNT);
    expect(big.continuation_token).toBeNull();
    const max = await page('per_page=10000');
    expect(max.images).toHaveLength(COUNT);
  });
});

describe('GET /images/v2: metadata filters', () => {
  it('the TS SDK key encoding meta.status%5Beq%5D works the same as meta.status[eq]', async () => {
    const want = expected((m) => m.meta.status === 'active');
    expect(want.length).toBeGreaterThan(0);
    expect(await ids('meta.status[eq]=active')).toEqual(want);
    expect(await ids('meta.status%5Beq%5D=active')).toEqual(want);
    expect(await ids('meta%2Estatus%5Beq%5D=active')).toEqual(want);
    // A pipe sent as %7C is the same pipe.
    const wantIn = expected((m) => m.meta.status !== 'pending');
    expect(await ids('meta.status%5Bin%5D=active%7Cdeleted')).toEqual(wantIn);
    expect(await ids('meta.status[in]=active|deleted')).toEqual(wantIn);
  });

  const cases: Array<[string, (m: ModelImage) => boolean]> = [
    ['meta.status[eq]=active', (m) => m.meta.status === 'active'],
    ['meta.status[eq:string]=pending', (m) => m.meta.status === 'pending'],
    ['meta.label[eq]=img-7', (m) => m.index === 7],
    ['meta.i[eq]=7', (m) => m.meta.i === 7],
    ['meta.i[eq:number]=7', (m) => m.meta.i === 7],
    ['meta.i[eq:number]=7.0', (m) => m.meta.i === 7],
    ['meta.i[eq:string]=7', () => false],
    ['meta.code[eq]=3', (m) => m.meta.code === '3'],
    ['meta.code[eq:string]=3', (m) => m.meta.code === '3'],
    ['meta.code[eq:number]=3', () => false],
    ['meta.even[eq:boolean]=true', (m) => m.meta.even],
    ['meta.even[eq:boolean]=false', (m) => !m.meta.even],
    ['meta.even[eq]=true', (m) => m.meta.even],
    ['meta.even[eq:string]=true', () => false],
    ['meta.i[gt]=20', (m) => m.meta.i > 20],
    ['meta.i[gt:number]=20', (m) => m.meta.i > 20],
    ['meta.i[gte]=20', (m) => m.meta.i >= 20],
    ['meta.i[gte:number]=20', (m) => m.meta.i >= 20],
    ['meta.i[lt]=5', (m) => m.meta.i < 5],
    ['meta.i[lt:number]=5', (m) => m.meta.i < 5],
    ['meta.i[lte]=5', (m) => m.meta.i <= 5],
    ['meta.i[lte:number]=5', (m) => m.meta.i <= 5],
    ['meta.i[gt]=-1.5', () => true],
    ['meta.i[lt]=2.5', (m) => m.meta.i < 2.5],
    ['meta.i[gte]=1e1', (m) => m.meta.i >= 10],
    ['meta.code[gt]=0', () => false],
    ['meta.status[in]=active|deleted', (m) => m.meta.status === 'active' || m.meta.status === 'deleted'],
    ['meta.status[in:string]=pending|nope', (m) => m.meta.status === 'pending'],
    ['meta.status[in]=nope', () => false],
    ['meta.i[in:number]=1|2|3|29', (m) => [1, 2, 3, 29].includes(m.meta.i)],
    ['meta.i[in]=1|2|3|29', (m) => [1, 2, 3, 29].includes(m.meta.i)],
    ['meta.code[in:string]=1|4', (m) => m.meta.code === '1' || m.meta.code === '4'],
    ['meta.code[in:number]=1|4', () => false],
    ['meta.region.name[eq]=us-east', (m) => m.meta.region.name === 'us-east'],
    ['meta.region.zone.rack.row.slot[eq:number]=2', (m) => m.meta.region.zone.rack.row.slot === 2],
    ['meta.region.zone.rack.row.slot[gte]=2', (m) => m.meta.region.zone.rack.row.slot >= 2],
    ['meta.region[eq]=us-east', () => false],
    ['meta.tags[eq]=t1', (m) => m.meta.tags.includes('t1')],
    ['meta.tags[in]=t1|t2', (m) => m.meta.tags.includes('t1') || m.meta.tags.includes('t2')],
    ['meta.tags[eq]=all', () => true],
    ['meta.nope[eq]=x', () => false],
    ['meta.status.deeper[eq]=active', () => false],
    [
      'meta.status[eq]=active&meta.i[gte]=10&meta.even[eq:boolean]=true',
      (m) => m.meta.status === 'active' && m.meta.i >= 10 && m.meta.even,
    ],
    ['meta.i[gte:number]=5&meta.i[lte:number]=9', (m) => m.meta.i >= 5 && m.meta.i <= 9],
    ['meta.i[eq:number]=5&meta.i[lte:number]=3', () => false],
    ['meta.status[eq]=active&meta.status[eq:string]=pending', () => false],
    [
      'meta.status[in]=active|pending&meta.i[gte]=3&meta.i[lte]=25&meta.even[eq:boolean]=false&meta.region.name[eq]=eu-west',
      (m) =>
        m.meta.status !== 'deleted' &&
        m.meta.i >= 3 &&
        m.meta.i <= 25 &&
        !m.meta.even &&
        m.meta.region.name === 'eu-west',
    ],
    ['creator=alice&meta.status[eq]=active', (m) => m.creator === 'alice' && m.meta.status === 'active'],
    ['creator=bob', (m) => m.creator === 'bob'],
    ['creator=&meta.even[eq:boolean]=true', (m) => m.creator === null && m.meta.even],
    ['creator=nobody', () => false],
  ];

  it.each(cases)('%s', async (query, pred) => {
    const want = expected(pred);
    expect(await ids(query)).toEqual(want);
    expect(await ids(join(query, 'sort_order=asc'))).toEqual(expected(pred, 'asc'));
  });

  it('the cases above are not vacuous', () => {
    // Guard against a model that makes every case trivially empty or full.
    const sizes = cases.map(([, pred]) => model.filter(pred).length);
    expect(sizes.filter((n) => n > 0 && n < COUNT).length).toBeGreaterThan(30);
  });

  it('filtered listings page with continuation_token like unfiltered ones', async () => {
    for (const order of ['desc', 'asc'] as const) {
      const pages = await walk(`meta.even[eq:boolean]=true&per_page=10&sort_order=${order}`);
      expect(pages.map((p) => p.images.length)).toEqual([10, 5]);
      expect(pages.map((p) => p.continuation_token === null)).toEqual([false, true]);
      expect(pages.flatMap((p) => p.images.map((im) => im.id))).toEqual(expected((m) => m.meta.even, order));
    }
  });

  it('5 filters are allowed, 10 in values are allowed, a field name of 100 characters is allowed', async () => {
    await page('meta.a[eq]=1&meta.b[eq]=1&meta.c[eq]=1&meta.d[eq]=1&meta.e[eq]=1');
    await page('meta.i[gte]=1&meta.i[lte]=5&meta.i[gt]=0&meta.i[lt]=6&meta.i[eq]=3');
    expect(await ids(`meta.i[in]=${Array.from({ length: 10 }, (_, k) => k).join('|')}`)).toEqual(
      expected((m) => m.meta.i < 10),
    );
    expect(await ids(`meta.${'a'.repeat(100)}[eq]=1`)).toEqual([]);
    expect(await ids('meta.a.b.c.d.e[eq]=1')).toEqual([]);
    expect(await ids('meta.Field_09[eq]=1')).toEqual([]);
  });
});

describe('GET /images/v2: invalid queries fail with 400 / 5400', () => {
  it('6 filters', async () => {
    await expectBadRequest('meta.a[eq]=1&meta.b[eq]=1&meta.c[eq]=1&meta.d[eq]=1&meta.e[eq]=1&meta.f[eq]=1');
    // Each operator counts.
    await expectBadRequest(
      'meta.i[gte]=1&meta.i[lte]=5&meta.i[gt]=0&meta.i[lt]=6&meta.i[eq]=3&meta.i[in]=3|4',
    );
  });

  it('6 nesting levels', async () => {
    await expectBadRequest('meta.a.b.c.d.e.f[eq]=1');
  });

  it('11 in values', async () => {
    await expectBadRequest(`meta.i[in]=${Array.from({ length: 11 }, (_, k) => k).join('|')}`);
    await expectBadRequest(`meta.i[in:number]=${Array.from({ length: 11 }, (_, k) => k).join('|')}`);
  });

  it('unknown operators', async () => {
    await expectBadRequest('meta.status[like]=active');
    await expectBadRequest('meta.status[ne]=active');
    await expectBadRequest('meta.status[eq:date]=active');
    await expectBadRequest('meta.status[in:boolean]=true');
    await expectBadRequest('meta.status[gt:string]=a');
    await expectBadRequest('meta.status[]=active');
    await expectBadRequest('meta.status=active');
  });

  it('bad field names', async () => {
    await expectBadRequest('meta.a-b[eq]=1');
    await expectBadRequest('meta.a%20b[eq]=1');
    await expectBadRequest('meta.a..b[eq]=1');
    await expectBadRequest('meta.caf%C3%A9[eq]=1');
    await expectBadRequest(`meta.${'a'.repeat(101)}[eq]=1`);
  });

  it('range and typed operators with a value of the wrong type', async () => {
    await expectBadRequest('meta.i[gt]=abc');
    await expectBadRequest('meta.i[gte:number]=1x');
    await expectBadRequest('meta.i[lt]=');
    await expectBadRequest('meta.i[eq:number]=seven');
    await expectBadRequest('meta.even[eq:boolean]=yes');
    await expectBadRequest('meta.i[in:number]=1|two');
  });

  it('an invalid filter fails even next to valid ones (never an unfiltered list)', async () => {
    await expectBadRequest('meta.status[eq]=active&meta.a-b[eq]=1');
    await expectBadRequest('per_page=10&meta.i[gt]=abc');
  });

  it('a garbage continuation_token', async () => {
    await expectBadRequest('continuation_token=garbage');
    await expectBadRequest('continuation_token=%7B%7D');
    await expectBadRequest(`continuation_token=${Buffer.from('{"v":1}').toString('base64url')}`);
  });

  it('a continuation_token from the other sort_order', async () => {
    const desc = await page('per_page=10');
    expect(desc.continuation_token).not.toBeNull();
    const token = encodeURIComponent(desc.continuation_token!);
    await expectBadRequest(`per_page=10&sort_order=asc&continuation_token=${token}`);
    // The same token goes on with its own order.
    expect((await page(`per_page=10&continuation_token=${token}`)).images.map((im) => im.id)).toEqual(
      expected(() => true).slice(10, 20),
    );

    const asc = await page('per_page=10&sort_order=asc');
    await expectBadRequest(
      `per_page=10&sort_order=desc&continuation_token=${encodeURIComponent(asc.continuation_token!)}`,
    );
    await expectBadRequest(`per_page=10&continuation_token=${encodeURIComponent(asc.continuation_token!)}`);
  });

  it('an unknown sort_order', async () => {
    await expectBadRequest('sort_order=sideways');
  });
});

describe('GET /images/v2 through the official SDK', () => {
  it('client.images.v2.list returns the first page and its continuation_token', async () => {
    const client = new Cloudflare({ apiToken: server.token, baseURL: server.apiBase, maxRetries: 0 });
    const account_id = server.accountId;
    const raw = await page('per_page=10&sort_order=asc');
    const first = await client.images.v2.list({ account_id, per_page: 10, sort_order: 'asc' });
    expect(first.images?.map((im) => im.id)).toEqual(expected(() => true, 'asc').slice(0, 10));
    expect(first.images?.map((im) => im.id)).toEqual(raw.images.map((im) => im.id));
    expect(typeof first.continuation_token).toBe('string');
    expect(first.continuation_token).toBe(raw.continuation_token);
    for (const im of first.images ?? []) expect(im.meta).toEqual(model.find((m) => m.id === im.id)?.meta);

    // Its token takes the SDK to the next page.
    const second = await client.images.v2.list({
      account_id,
      per_page: 10,
      sort_order: 'asc',
      continuation_token: first.continuation_token!,
    });
    expect(second.images?.map((im) => im.id)).toEqual(expected(() => true, 'asc').slice(10, 20));

    // The SDK's own encoding of a metadata filter (qs allowDots: meta.status%5Beq%5D=active).
    const filtered = await client.images.v2.list({
      account_id,
      meta: { 'status[eq]': 'active' } as unknown as NonNullable<
        Parameters<typeof client.images.v2.list>[0]['meta']
      >,
    });
    expect(filtered.images?.map((im) => im.id)).toEqual(expected((m) => m.meta.status === 'active'));
    expect(filtered.continuation_token ?? null).toBeNull();
  });
});

describe('GET /images/v2 and drafts', () => {
  it('a direct-upload draft is never listed, even when its metadata and creator match; once uploaded it is', async () => {
    const res = await fetch(`${server.apiBase}/accounts/${server.accountId}/images/v2/direct_upload`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { status: 'active', i: 7, tags: ['all'] }, creator: 'alice' }),
    });
    expect(res.status).toBe(200);
    const draft = ((await res.json()) as Envelope<{ id: string; uploadURL: string }>).result;
    const queries = [
      '',
      'sort_order=asc',
      'per_page=10',
      'meta.status[eq]=active',
      'meta.i[eq:number]=7',
      'meta.tags[eq]=all',
      'creator=alice',
      'creator=alice&meta.status[eq]=active',
    ];
    for (const q of queries) expect(await ids(q), q).not.toContain(draft.id);

    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'draft.png');
    const up = await fetch(draft.uploadURL, { method: 'POST', body: form });
    expect(up.status).toBe(200);
    for (const q of queries)
      expect(
        (await ids(q)).filter((id) => id === draft.id),
        q,
      ).toHaveLength(1);
  });

  it('a completed draft is listed at its upload time (sort_order is by upload time)', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const res = await fetch(`${server.apiBase}/accounts/${server.accountId}/images/v2/direct_upload`, {
      method: 'POST',
      headers: auth(),
    });
    expect(res.status).toBe(200);
    const draft = ((await res.json()) as Envelope<{ id: string; uploadURL: string }>).result;
    await sleep(20);
    const between = await uploadOne(100);
    await sleep(20);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'late.png');
    const up = await fetch(draft.uploadURL, { method: 'POST', body: form });
    expect(up.status).toBe(200);
    const uploaded = ((await up.json()) as Envelope<ImageJson>).result.uploaded;

    const desc = (await page()).images;
    // The draft's bytes arrived after `between`: its `uploaded` is later, so desc lists it first.
    expect(Date.parse(uploaded)).toBeGreaterThan(
      Date.parse(desc.find((im) => im.id === between.id)!.uploaded),
    );
    const times = desc.map((im) => Date.parse(im.uploaded));
    for (let k = 1; k < times.length; k++)
      expect(times[k], `desc position ${k}`).toBeLessThanOrEqual(times[k - 1]!);
    expect(desc.slice(0, 2).map((im) => im.id)).toEqual([draft.id, between.id]);
    const asc = (await page('sort_order=asc')).images;
    expect(asc.slice(-2).map((im) => im.id)).toEqual([between.id, draft.id]);
  });
});
