/**
 * Signed delivery URLs (digest §6) and cache purges (digest §2.10 PATCH/DELETE variant, image edit
 * and delete) end to end against a real server.
 *
 * Signatures are computed here with node:crypto (HMAC-SHA256, key = the raw UTF-8 bytes of a value
 * from GET /images/v1/keys, lowercase hex over `<path>?exp=<exp>`), independently of the server's
 * src/security/signing.ts, which is checked separately against the digest's test vector.
 */
import { createHmac } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign, verify } from '../../src/security/signing.js';
import {
  accountHashOf,
  api,
  cdnUrl,
  createVariant,
  fetchBytes,
  listKeys,
  makeScene,
  patchConfig,
  show,
  startDeliveryServer,
  upload,
  type DeliveryServer,
  type Fetched,
} from '../helpers/delivery.js';

const ACCEPT = 'image/webp,*/*';

function hmacHex(message: string, key: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(message, 'utf8').digest('hex');
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function expectDenied(res: Fetched): void {
  expect(res.status, show(res)).toBe(403);
  expect(res.headers.get('cf-resized'), show(res)).toBe('err=9425');
}

function expectServed(res: Fetched): void {
  expect(res.status, show(res)).toBe(200);
  expect(res.headers.get('content-type') ?? '', show(res)).toMatch(/^image\//);
}

describe('digest §6 test vector (unit)', () => {
  const key = 'Oix0bbNaT8Rge9PuyxUBrjI6zrgnsyJ5=';
  const path = '/cheeW4oKsx5ljh8e8BoL2A/bc27a117-9509-446b-8c69-c81bfeac0a01/mobile';
  const sig = '72411885ee02134d38662f3e70ac8ff694f408e9d14b05125f6b022c3f403efa';

  it('sign() reproduces the vector', () => {
    expect(sign(`${path}?exp=1631289275`, key)).toBe(sig);
    expect(hmacHex(`${path}?exp=1631289275`, key)).toBe(sig);
  });

  it('verify() accepts the vector before expiry and refuses it after, or tampered', () => {
    expect(verify([path], `exp=1631289275&sig=${sig}`, [key], 1631289275 - 60)).toBe('ok');
    expect(verify([path], `exp=1631289275&sig=${sig}`, [key], 1631289275 + 1)).toBe('expired');
    expect(verify([path], `exp=1631289276&sig=${sig}`, [key], 1631289275 - 60)).toBe('bad-signature');
    expect(verify([path], `exp=1631289275`, [key], 1631289275 - 60)).toBe('missing');
  });
});

describe('signed URLs (digest §6)', () => {
  let srv: DeliveryServer;
  let hash: string;
  let privateId: string;
  let otherPrivateId: string;
  let defaultKey: string;

  /** `<base>?exp=<exp>&sig=<hmac of <signedPath>?exp=<exp>>`. */
  function signedUrl(base: string, signedPath: string, exp: number, key: string): string {
    return `${base}?exp=${exp}&sig=${hmacHex(`${signedPath}?exp=${exp}`, key)}`;
  }

  beforeAll(async () => {
    srv = await startDeliveryServer({ PICTOR_DELIVERY_PORT: '0' });
    const a = await upload(srv, await makeScene('jpeg', 900, 600), {
      filename: 'p.jpg',
      contentType: 'image/jpeg',
      requireSignedURLs: true,
    });
    const b = await upload(srv, await makeScene('jpeg', 600, 900), {
      filename: 'q.jpg',
      contentType: 'image/jpeg',
      requireSignedURLs: true,
    });
    expect(a.requireSignedURLs).toBe(true);
    hash = accountHashOf(a);
    privateId = a.id;
    otherPrivateId = b.id;
    await createVariant(srv, 'thumb', { fit: 'cover', width: 100, height: 100 });
    await createVariant(srv, 'open', { fit: 'scale-down', width: 200, height: 200 }, true);
    const keys = await listKeys(srv);
    const def = keys.find((k) => k.name === 'default');
    expect(def, JSON.stringify(keys)).toBeDefined();
    defaultKey = def!.value;
  });

  afterAll(async () => {
    await srv?.close();
  });

  it('unsigned → 403, Cf-Resized: err=9425', async () => {
    expectDenied(await fetchBytes(cdnUrl(srv, hash, privateId, 'public'), { accept: ACCEPT }));
  });

  it('a valid signature over the bare path → 200, Cache-Control private with max-age ≤ exp − now', async () => {
    const before = nowSeconds();
    const exp = before + 3600;
    const res = await fetchBytes(
      signedUrl(cdnUrl(srv, hash, privateId, 'public'), `/${hash}/${privateId}/public`, exp, defaultKey),
      { accept: ACCEPT },
    );
    expectServed(res);
    const cc = res.headers.get('cache-control') ?? '';
    const m = /^private, max-age=(\d+)$/.exec(cc);
    expect(m, `Cache-Control: ${cc}`).not.toBeNull();
    const maxAge = Number(m![1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(exp - before);
    const d = await sharp(res.body).metadata();
    expect([d.width, d.height]).toEqual([900, 600]);
  });

  it('a short expiry caps max-age', async () => {
    const before = nowSeconds();
    const exp = before + 120;
    const res = await fetchBytes(
      signedUrl(cdnUrl(srv, hash, privateId, 'public'), `/${hash}/${privateId}/public`, exp, defaultKey),
      { accept: ACCEPT },
    );
    expectServed(res);
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    expect(res.headers.get('cache-control')).toMatch(/^private,/);
    expect(maxAge).toBeLessThanOrEqual(exp - before);
  });

  it('a valid signature over the full /cdn-cgi/imagedelivery path → 200', async () => {
    const exp = nowSeconds() + 600;
    const res = await fetchBytes(
      signedUrl(
        cdnUrl(srv, hash, privateId, 'public'),
        `/cdn-cgi/imagedelivery/${hash}/${privateId}/public`,
        exp,
        defaultKey,
      ),
      { accept: ACCEPT },
    );
    expectServed(res);
    expect(res.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
  });

  it('a signed bare-form URL on the delivery port → 200', async () => {
    const exp = nowSeconds() + 600;
    const path = `/${hash}/${privateId}/public`;
    expectServed(
      await fetchBytes(signedUrl(`${srv.deliveryUrl}${path}`, path, exp, defaultKey), { accept: ACCEPT }),
    );
    expectDenied(await fetchBytes(`${srv.deliveryUrl}${path}`, { accept: ACCEPT }));
  });

  it('expired → 403', async () => {
    const exp = nowSeconds() - 30;
    expectDenied(
      await fetchBytes(
        signedUrl(cdnUrl(srv, hash, privateId, 'public'), `/${hash}/${privateId}/public`, exp, defaultKey),
        { accept: ACCEPT },
      ),
    );
  });

  it('tampered signature → 403', async () => {
    const exp = nowSeconds() + 600;
    const sig = hmacHex(`/${hash}/${privateId}/public?exp=${exp}`, defaultKey);
    const flipped = `${sig.slice(0, 10)}${sig[10] === '0' ? '1' : '0'}${sig.slice(11)}`;
    expectDenied(
      await fetchBytes(`${cdnUrl(srv, hash, privateId, 'public')}?exp=${exp}&sig=${flipped}`, {
        accept: ACCEPT,
      }),
    );
    expectDenied(
      await fetchBytes(
        `${cdnUrl(srv, hash, privateId, 'public')}?exp=${exp}&sig=${sig.toUpperCase().replace(/[0-9]/g, 'A')}`,
        { accept: ACCEPT },
      ),
    );
    expectDenied(
      await fetchBytes(`${cdnUrl(srv, hash, privateId, 'public')}?exp=${exp}&sig=`, { accept: ACCEPT }),
    );
  });

  it('tampered exp (same signature) → 403', async () => {
    const exp = nowSeconds() + 600;
    const sig = hmacHex(`/${hash}/${privateId}/public?exp=${exp}`, defaultKey);
    expectDenied(
      await fetchBytes(`${cdnUrl(srv, hash, privateId, 'public')}?exp=${exp + 1000}&sig=${sig}`, {
        accept: ACCEPT,
      }),
    );
  });

  it('the same signature on another variant → 403', async () => {
    const exp = nowSeconds() + 600;
    const sig = hmacHex(`/${hash}/${privateId}/public?exp=${exp}`, defaultKey);
    expectDenied(
      await fetchBytes(`${cdnUrl(srv, hash, privateId, 'thumb')}?exp=${exp}&sig=${sig}`, { accept: ACCEPT }),
    );
    // …while that variant's own signature works.
    expectServed(
      await fetchBytes(
        signedUrl(cdnUrl(srv, hash, privateId, 'thumb'), `/${hash}/${privateId}/thumb`, exp, defaultKey),
        { accept: ACCEPT },
      ),
    );
  });

  it('the same signature on another image → 403', async () => {
    const exp = nowSeconds() + 600;
    const sig = hmacHex(`/${hash}/${privateId}/public?exp=${exp}`, defaultKey);
    expectDenied(
      await fetchBytes(`${cdnUrl(srv, hash, otherPrivateId, 'public')}?exp=${exp}&sig=${sig}`, {
        accept: ACCEPT,
      }),
    );
  });

  it('a second key works, and its signatures stop working once it is deleted', async () => {
    const afterPut = (
      await api<{ keys: Array<{ name: string; value: string }> }>(srv, 'PUT', '/v1/keys/second')
    ).keys;
    const second = afterPut.find((k) => k.name === 'second');
    expect(second, JSON.stringify(afterPut)).toBeDefined();
    expect(second!.value).not.toBe(defaultKey);
    expect((await listKeys(srv)).map((k) => k.name).sort()).toEqual(['default', 'second']);

    const exp = nowSeconds() + 600;
    const url = signedUrl(
      cdnUrl(srv, hash, privateId, 'public'),
      `/${hash}/${privateId}/public`,
      exp,
      second!.value,
    );
    expectServed(await fetchBytes(url, { accept: ACCEPT }));
    // The default key keeps working alongside.
    expectServed(
      await fetchBytes(
        signedUrl(cdnUrl(srv, hash, privateId, 'public'), `/${hash}/${privateId}/public`, exp, defaultKey),
        { accept: ACCEPT },
      ),
    );

    const afterDelete = (
      await api<{ keys: Array<{ name: string; value: string }> }>(srv, 'DELETE', '/v1/keys/second')
    ).keys;
    expect(afterDelete.map((k) => k.name)).toEqual(['default']);
    expectDenied(await fetchBytes(url, { accept: ACCEPT }));
  });

  it('a neverRequireSignedURLs variant serves without a signature, publicly cacheable', async () => {
    const res = await fetchBytes(cdnUrl(srv, hash, privateId, 'open'), { accept: ACCEPT });
    expectServed(res);
    expect(res.headers.get('cache-control')).toBe('public, max-age=172800, stale-while-revalidate=7200');
    const d = await sharp(res.body).metadata();
    expect([d.width, d.height]).toEqual([200, 133]);
  });

  it('flexible variants on a signed image → 403, signed or not', async () => {
    await patchConfig(srv, { flexible_variants: true });
    try {
      const unsigned = await fetchBytes(cdnUrl(srv, hash, privateId, 'w=100'), { accept: ACCEPT });
      expect(unsigned.status, show(unsigned)).toBe(403);
      expect(unsigned.headers.get('cf-resized') ?? '').toMatch(/^err=\d+$/);
      const exp = nowSeconds() + 600;
      const signed = await fetchBytes(
        signedUrl(cdnUrl(srv, hash, privateId, 'w=100'), `/${hash}/${privateId}/w=100`, exp, defaultKey),
        { accept: ACCEPT },
      );
      expect(signed.status, show(signed)).toBe(403);
    } finally {
      await patchConfig(srv, { flexible_variants: false });
    }
  });
});

describe('purge: the next GET after each purging call reflects the change', () => {
  let srv: DeliveryServer;
  let hash: string;

  /** GET twice; the second must be a cache HIT. Returns the second response. */
  async function warm(url: string): Promise<Fetched> {
    const first = await fetchBytes(url, { accept: ACCEPT });
    expectServed(first);
    const second = await fetchBytes(url, { accept: ACCEPT });
    expectServed(second);
    expect(second.headers.get('cf-cache-status'), 'second GET of a warm rendition').toBe('HIT');
    return second;
  }

  async function freshImage(name: string): Promise<string> {
    const img = await upload(srv, await makeScene('jpeg', 1200, 800), {
      filename: `${name}.jpg`,
      contentType: 'image/jpeg',
    });
    hash = accountHashOf(img);
    return img.id;
  }

  beforeAll(async () => {
    srv = await startDeliveryServer();
  });

  afterAll(async () => {
    await srv?.close();
  });

  it('(1) PATCH variant width 300 → 150: the next GET is 150 wide', async () => {
    const id = await freshImage('v-patch');
    await createVariant(srv, 'purgev', { fit: 'scale-down', width: 300 });
    const url = cdnUrl(srv, hash, id, 'purgev');
    const warmRes = await warm(url);
    expect((await sharp(warmRes.body).metadata()).width).toBe(300);
    await api(srv, 'PATCH', '/v1/variants/purgev', { options: { fit: 'scale-down', width: 150 } });
    const after = await fetchBytes(url, { accept: ACCEPT });
    expectServed(after);
    const m = await sharp(after.body).metadata();
    expect([m.width, m.height]).toEqual([150, 100]);
    expect(after.headers.get('cf-cache-status')).not.toBe('HIT');
  });

  it('(2) DELETE variant: the next GET is 404, err=9431', async () => {
    const id = await freshImage('v-delete');
    await createVariant(srv, 'purged', { fit: 'cover', width: 120, height: 120 });
    const url = cdnUrl(srv, hash, id, 'purged');
    await warm(url);
    await api(srv, 'DELETE', '/v1/variants/purged');
    const after = await fetchBytes(url, { accept: ACCEPT });
    expect(after.status, show(after)).toBe(404);
    expect(after.headers.get('cf-resized')).toBe('err=9431');
  });

  it('(3) PATCH image requireSignedURLs true → unsigned 403; back to false → 200', async () => {
    const id = await freshImage('i-private');
    const url = cdnUrl(srv, hash, id, 'public');
    await warm(url);
    await api(srv, 'PATCH', `/v1/${id}`, { requireSignedURLs: true });
    expectDenied(await fetchBytes(url, { accept: ACCEPT }));
    await api(srv, 'PATCH', `/v1/${id}`, { requireSignedURLs: false });
    const again = await fetchBytes(url, { accept: ACCEPT });
    expectServed(again);
    expect(again.headers.get('cache-control')).toMatch(/^public,/);
  });

  it('(4) DELETE image: the next GET is 404', async () => {
    const id = await freshImage('i-delete');
    const url = cdnUrl(srv, hash, id, 'public');
    await warm(url);
    await api(srv, 'DELETE', `/v1/${id}`);
    const after = await fetchBytes(url, { accept: ACCEPT });
    expect(after.status, show(after)).toBe(404);
    expect(after.headers.get('cf-resized')).toBe('err=9431');
  });
});
