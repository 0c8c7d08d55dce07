/**
 * The dashboard in headless Chromium (Debian's, through playwright-core), against a real server:
 * every acceptance point of issue #13, controls found by role and label, axe-core on every view.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { launchChromium } from '../helpers/browser.js';
import {
  axeSerious,
  buildDashboard,
  startDashboardServer,
  type DashboardServer,
} from '../helpers/dashboard.js';
import type { ImageJson } from '../helpers/api.js';
import { makeImage } from '../helpers/images.js';

let browser: Browser;
let srv: DashboardServer;
const contexts: BrowserContext[] = [];
/** Console errors and CSP reports of every page: a strict CSP that broke the app would show here. */
const pageErrors: string[] = [];
/** The image made private (a generated id). */
let privateId = '';

async function newPage(opts: { width?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1200, height: 900 },
    colorScheme: opts.colorScheme ?? 'light',
  });
  contexts.push(context);
  // Shorter than the test's own timeout, so a missing control is reported by name.
  context.setDefaultTimeout(12_000);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text()))
      pageErrors.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  return page;
}

async function signIn(page: Page, token = srv.token, server = srv): Promise<void> {
  await page.goto(server.dashboard);
  await page.getByLabel('Account ID').fill(server.accountId);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Images', level: 1 }).waitFor();
}

/** 'loaded' once an <img> has decoded pixels, else what the element is (so a failure says why). */
function loaded(locator: ReturnType<Page['locator']>): () => Promise<string> {
  return () =>
    locator.evaluate((e) =>
      e instanceof HTMLImageElement && e.complete && e.naturalWidth > 0 ? 'loaded' : e.outerHTML,
    );
}

/** A link of the top navigation. */
function nav(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name, exact: true });
}

async function expectNoSeriousAxe(page: Page, view: string): Promise<void> {
  const violations = await axeSerious(page);
  expect(violations, `${view}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
}

async function apiUpload(data: Buffer, fields: Record<string, string> = {}): Promise<ImageJson> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(data)]), 'api.png');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(`${srv.url}/client/v4/accounts/${srv.accountId}/images/v1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${srv.token}` },
    body: form,
  });
  const body = (await res.json()) as { result: ImageJson };
  expect(res.status).toBe(200);
  return body.result;
}

async function dims(url: string): Promise<{ width?: number; height?: number; status: number }> {
  const res = await fetch(url);
  if (res.status !== 200) return { status: res.status };
  const m = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
  return { width: m.width, height: m.height, status: 200 };
}

beforeAll(async () => {
  await buildDashboard();
  srv = await startDashboardServer();
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await srv?.close();
});

describe('dashboard', () => {
  it('is served at /dashboard/ with a strict Content-Security-Policy on its HTML', async () => {
    const redirect = await fetch(`${srv.url}/dashboard`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/dashboard/');
    const res = await fetch(srv.dashboard);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    const html = await res.text();
    const script = /<script type="module"[^>]*src="([^"]+)"/.exec(html)?.[1];
    expect(script, 'the page loads its bundle from /dashboard/assets').toMatch(
      /^\/dashboard\/assets\/.+\.js$/,
    );
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('signing in with a wrong token shows the API error; a good token signs in, kept in sessionStorage only', async () => {
    const page = await newPage();
    await page.goto(srv.dashboard);
    const direct = await srv.api(
      'GET',
      '/images/v1/stats',
      undefined,
      'not-a-real-token-0000000000000000000000',
    );
    expect(direct.status).toBeGreaterThanOrEqual(400);
    await page.getByLabel('Account ID').fill(srv.accountId);
    await page.getByLabel('API token').fill('not-a-real-token-0000000000000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain(direct.body.errors[0]!.message);
    await expectNoSeriousAxe(page, 'sign-in with an error');

    await page.getByLabel('API token').fill(srv.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Images', level: 1 }).waitFor();
    expect(page.url()).not.toContain(srv.token);
    expect(await page.context().cookies()).toEqual([]);
    const stored = await page.evaluate(() => JSON.stringify(sessionStorage));
    expect(stored).toContain(srv.token);
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(srv.token);
    // A reload keeps the session (sessionStorage), a new tab does not.
    await page.reload();
    await page.getByRole('heading', { name: 'Images', level: 1 }).waitFor();
    const other = await page.context().newPage();
    await other.goto(srv.dashboard);
    await other.getByRole('button', { name: 'Sign in' }).waitFor();
    await other.close();
  });

  it('uploads three files by the file input and one by a drop, each in the grid; per-file errors', async () => {
    const page = await newPage();
    await signIn(page);
    await expect.poll(() => page.getByText('No images yet').count()).toBe(1);
    const files = await Promise.all(
      [1, 2, 3].map(async (n) => ({
        name: `input-${n}.png`,
        mimeType: 'image/png',
        buffer: await makeImage('png', 120 + n, 90),
      })),
    );
    await page.getByLabel('Upload images').setInputFiles(files);
    for (const f of files) {
      const row = page
        .getByRole('list', { name: 'Uploads' })
        .getByRole('listitem')
        .filter({ hasText: f.name });
      await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain('Uploaded');
      expect(
        await row.getByRole('progressbar', { name: `Upload progress of ${f.name}` }).getAttribute('value'),
      ).toBe('1');
    }
    // A synthetic drop: a DataTransfer holding a File, dispatched on the drop zone.
    const dropped = (await makeImage('png', 100, 100)).toString('base64');
    const transfer = await page.evaluateHandle((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      return dt;
    }, dropped);
    await page
      .getByRole('region', { name: 'Drop zone for images' })
      .dispatchEvent('drop', { dataTransfer: transfer });
    await expect
      .poll(() =>
        page
          .getByRole('list', { name: 'Uploads' })
          .getByRole('listitem')
          .filter({ hasText: 'dropped.png' })
          .textContent(),
      )
      .toContain('Uploaded');

    const listed = await srv.api<{ images: ImageJson[] }>('GET', '/images/v2?per_page=100');
    expect(listed.body.result.images).toHaveLength(4);
    const grid = page.getByRole('list', { name: 'Images' });
    for (const img of listed.body.result.images) await grid.getByRole('link', { name: img.id }).waitFor();
    await expectNoSeriousAxe(page, 'images view with uploads');

    // Not an image, and a duplicate custom id: each file shows the API's own error.
    await page
      .getByLabel('Upload images')
      .setInputFiles([
        { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello, not an image') },
      ]);
    const bad = page
      .getByRole('list', { name: 'Uploads' })
      .getByRole('listitem')
      .filter({ hasText: 'notes.txt' });
    await expect.poll(() => bad.textContent()).toMatch(/Failed: .+\(code \d+\)/);
    await page.getByLabel('Custom id (optional)').fill('custom/one');
    await page
      .getByLabel('Upload images')
      .setInputFiles([{ name: 'first.png', mimeType: 'image/png', buffer: files[0]!.buffer }]);
    await expect
      .poll(() =>
        page
          .getByRole('list', { name: 'Uploads' })
          .getByRole('listitem')
          .filter({ hasText: 'first.png' })
          .textContent(),
      )
      .toContain('Uploaded');
    await page
      .getByLabel('Upload images')
      .setInputFiles([{ name: 'again.png', mimeType: 'image/png', buffer: files[1]!.buffer }]);
    const dup = page
      .getByRole('list', { name: 'Uploads' })
      .getByRole('listitem')
      .filter({ hasText: 'again.png' });
    await expect.poll(() => dup.textContent()).toMatch(/Failed: .+\(code 5409\)/);
    // Invalid upload metadata is refused before anything is sent.
    await page.getByLabel('Custom id (optional)').fill('');
    await page.getByLabel('Upload metadata (JSON, optional)').fill('{not json');
    await page
      .getByLabel('Upload images')
      .setInputFiles([{ name: 'never.png', mimeType: 'image/png', buffer: files[2]!.buffer }]);
    await page.getByText('Metadata is not valid JSON').waitFor();
    expect(
      (await srv.api<{ images: ImageJson[] }>('GET', '/images/v2?per_page=100')).body.result.images,
    ).toHaveLength(5);
  });

  it('filters by creator and by a metadata field', async () => {
    await apiUpload(await makeImage('png', 50, 50), {
      id: 'by-alice',
      creator: 'alice',
      metadata: JSON.stringify({ team: 'red' }),
    });
    await apiUpload(await makeImage('png', 50, 50), {
      id: 'by-bob',
      creator: 'bob',
      metadata: JSON.stringify({ team: 'blue' }),
    });
    const page = await newPage();
    await signIn(page);
    const grid = page.getByRole('list', { name: 'Images' });
    await grid.getByRole('link', { name: 'by-bob' }).waitFor();
    await page.getByLabel('Creator').fill('alice');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => grid.getByRole('link').count()).toBe(1);
    await grid.getByRole('link', { name: 'by-alice' }).waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Metadata field').fill('team');
    await page.getByLabel('Metadata value').fill('blue');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => grid.getByRole('link').count()).toBe(1);
    await grid.getByRole('link', { name: 'by-bob' }).waitFor();
    await page.getByLabel('Metadata value').fill('green');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No images match these filters.').waitFor();
  });

  it('opens an image and edits its metadata as JSON, validated before it is sent (checked through the API)', async () => {
    const img = await apiUpload(await makeImage('jpeg', 64, 48), {
      id: 'edit-me',
      metadata: JSON.stringify({ a: 1 }),
    });
    const page = await newPage();
    await signIn(page);
    await page.getByRole('list', { name: 'Images' }).getByRole('link', { name: img.id }).click();
    await page.getByRole('heading', { name: img.id, level: 1 }).waitFor();
    // Every variant with its URL, a copy button and a preview; the original's size and format.
    for (const url of img.variants) {
      const name = url.slice(url.lastIndexOf('/') + 1);
      expect(await page.getByLabel(`URL of variant ${name}`, { exact: true }).inputValue()).toBe(url);
      await page.getByRole('button', { name: `Copy URL of variant ${name}` }).waitFor();
      await expect.poll(loaded(page.getByRole('img', { name: `Preview of variant ${name}` }))).toBe('loaded');
    }
    await page.getByText('image/jpeg').waitFor();
    await page.getByText('64 × 48 px').waitFor();
    await expectNoSeriousAxe(page, 'image detail');

    const field = page.getByRole('textbox', { name: 'Metadata', exact: true });
    expect(JSON.parse(await field.inputValue())).toEqual({ a: 1 });
    await field.fill('{"a": 2,');
    await page.getByRole('button', { name: 'Save metadata' }).click();
    await page.getByRole('alert').filter({ hasText: 'not valid JSON' }).waitFor();
    expect((await srv.api<ImageJson>('GET', '/images/v1/edit-me')).body.result.meta).toEqual({ a: 1 });
    await field.fill('["an", "array"]');
    await page.getByRole('button', { name: 'Save metadata' }).click();
    await page.getByRole('alert').filter({ hasText: 'must be a JSON object' }).waitFor();
    await field.fill('{"a": 2, "owner": "dashboard"}');
    await page.getByRole('button', { name: 'Save metadata' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect((await srv.api<ImageJson>('GET', '/images/v1/edit-me')).body.result.meta).toEqual({
      a: 2,
      owner: 'dashboard',
    });
  });

  it('makes an image private; its thumbnail still loads, signed in the browser', async () => {
    // Cloudflare refuses signed URLs for custom ids (5400), so this one gets a generated id.
    const img = await apiUpload(await makeImage('png', 80, 60), {
      metadata: JSON.stringify({ role: 'private' }),
    });
    privateId = img.id;
    const page = await newPage();
    await signIn(page);
    await page.getByRole('list', { name: 'Images' }).getByRole('link', { name: img.id }).click();
    await page.getByRole('heading', { name: img.id, level: 1 }).waitFor();
    await page.getByLabel('Require signed URLs', { exact: true }).check();
    await expect
      .poll(
        async () => (await srv.api<ImageJson>('GET', `/images/v1/${img.id}`)).body.result.requireSignedURLs,
      )
      .toBe(true);
    // Unsigned, the image is refused now.
    expect((await dims(img.variants[0]!)).status).toBe(403);
    await page.getByRole('link', { name: '← All images' }).click();
    const thumb = page
      .getByRole('list', { name: 'Images' })
      .getByRole('link', { name: img.id })
      .getByRole('img');
    await expect.poll(loaded(thumb), { timeout: 15_000 }).toBe('loaded');
    const src = (await thumb.getAttribute('src'))!;
    expect(src).toMatch(/\?exp=\d+&sig=[0-9a-f]{64}$/);
    expect((await dims(src)).status).toBe(200);
    // The signed-URL generator makes a URL that serves, with the expiry asked for.
    await page.getByRole('list', { name: 'Images' }).getByRole('link', { name: img.id }).click();
    await page.getByLabel('Expires in (minutes)').fill('5');
    await page.getByRole('button', { name: 'Generate signed URL' }).click();
    const signed = await page.getByLabel('Signed URL', { exact: true }).inputValue();
    const exp = Number(/exp=(\d+)/.exec(signed)![1]);
    expect(Math.abs(exp - (Date.now() / 1000 + 300))).toBeLessThan(120);
    expect((await dims(signed)).status).toBe(200);
  });

  it('creates a variant with a live preview, lists it, and its URL serves the right size', async () => {
    const img = await apiUpload(await makeImage('png', 400, 300), { id: 'for-variants' });
    const page = await newPage();
    await signIn(page);
    await nav(page, 'Variants').click();
    await page.getByRole('heading', { name: 'Variants', level: 1 }).waitFor();
    // The public variant is shown as not deletable, with the reason.
    const publicDelete = page.getByRole('button', { name: 'Delete variant public' });
    expect(await publicDelete.isDisabled()).toBe(true);
    expect(await publicDelete.getAttribute('aria-describedby')).toBe('public-reason');
    // Flexible variants and the browser TTL are edited here.
    await page.getByLabel('Flexible variants').check();
    await page.getByLabel('Browser TTL (seconds)').fill('7200');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Settings saved' }).waitFor();
    expect((await srv.api('GET', '/images/v1/config')).body.result).toEqual({
      flexible_variants: true,
      browser_ttl: 7200,
    });

    await page.getByLabel('Name').fill('card');
    await page.getByLabel('Width').fill('200');
    await page.getByLabel('Height').fill('100');
    await page.getByLabel('Fit').selectOption('cover');
    await page.getByLabel('Metadata').selectOption('copyright');
    await page.getByLabel('Always allow public access').check();
    expect(await page.getByLabel('Fit').locator('option').allTextContents()).toEqual([
      'scale-down',
      'contain',
      'cover',
      'crop',
      'pad',
    ]);
    expect(await page.getByLabel('Metadata').locator('option').allTextContents()).toEqual([
      'keep',
      'copyright',
      'none',
    ]);
    await page.getByLabel('Preview image').selectOption(img.id);
    const preview = page.getByRole('img', { name: 'Variant preview' });
    await expect
      .poll(
        () =>
          preview.evaluate(
            (e) => `${(e as HTMLImageElement).naturalWidth}x${(e as HTMLImageElement).naturalHeight}`,
          ),
        { timeout: 15_000 },
      )
      .toBe('200x100');
    await expectNoSeriousAxe(page, 'variants view');
    // Nothing is saved until the button says so.
    expect((await srv.api('GET', '/images/v1/variants/card')).status).toBe(404);
    await page.getByRole('button', { name: 'Save variant' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved variant card' }).waitFor();
    await page.getByRole('row', { name: /card/ }).waitFor();
    const v = await srv.api<{
      variant: { options: Record<string, unknown>; neverRequireSignedURLs: boolean };
    }>('GET', '/images/v1/variants/card');
    expect(v.body.result.variant).toMatchObject({
      options: { width: 200, height: 100, fit: 'cover', metadata: 'copyright' },
      neverRequireSignedURLs: true,
    });
    const detail = (await srv.api<ImageJson>('GET', `/images/v1/${img.id}`)).body.result;
    const cardUrl = detail.variants.find((u) => u.endsWith('/card'))!;
    expect(await dims(cardUrl)).toEqual({ status: 200, width: 200, height: 100 });
    // Delete it again from the list.
    await page.getByRole('button', { name: 'Delete variant card' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted variant card' }).waitFor();
    expect((await srv.api('GET', '/images/v1/variants/card')).status).toBe(404);
  });

  it('rotates signing keys: values hidden until revealed, create the second, delete the first', async () => {
    const page = await newPage();
    await signIn(page);
    await nav(page, 'Signing keys').click();
    await page.getByRole('heading', { name: 'Signing keys', level: 1 }).waitFor();
    const before = (await srv.api<{ keys: Array<{ name: string; value: string }> }>('GET', '/images/v1/keys'))
      .body.result.keys;
    expect(before).toHaveLength(1);
    const first = before[0]!;
    expect(await page.content()).not.toContain(first.value);
    await page.getByRole('button', { name: `Reveal key ${first.name}` }).click();
    await page.getByText(first.value).waitFor();
    await page.getByRole('button', { name: `Hide key ${first.name}` }).click();
    expect(await page.content()).not.toContain(first.value);
    await page.getByRole('heading', { name: 'Rotating a key' }).waitFor();
    await expectNoSeriousAxe(page, 'keys view');

    await page.getByLabel('Key name').fill('second');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('status').filter({ hasText: 'Created key second' }).waitFor();
    await page.getByRole('button', { name: `Delete key ${first.name}` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Deleted key ${first.name}` })
      .waitFor();
    const after = (await srv.api<{ keys: Array<{ name: string; value: string }> }>('GET', '/images/v1/keys'))
      .body.result.keys;
    expect(after.map((k) => k.name)).toEqual(['second']);
    // The private image's thumbnail is now signed with the new key, and still loads.
    await nav(page, 'Images').click();
    const thumb = page
      .getByRole('list', { name: 'Images' })
      .getByRole('link', { name: privateId })
      .getByRole('img');
    await expect.poll(loaded(thumb), { timeout: 15_000 }).toBe('loaded');
  });

  it('deletes an image behind a confirmation', async () => {
    const img = await apiUpload(await makeImage('png', 40, 40), { id: 'doomed' });
    const page = await newPage();
    await signIn(page);
    await page.getByRole('list', { name: 'Images' }).getByRole('link', { name: img.id }).click();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: `Delete ${img.id}?` });
    await dialog.waitFor();
    await expectNoSeriousAxe(page, 'delete confirmation');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await srv.api('GET', `/images/v1/${img.id}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('button', { name: 'Delete permanently' }).click();
    await page.getByRole('heading', { name: 'Images', level: 1 }).waitFor();
    expect((await srv.api('GET', `/images/v1/${img.id}`)).status).toBe(404);
    await page.getByRole('list', { name: 'Images' }).getByRole('link').first().waitFor();
    expect(await page.getByRole('list', { name: 'Images' }).getByRole('link', { name: img.id }).count()).toBe(
      0,
    );
  });

  it('a read-only token gets a read-only dashboard: write controls disabled, with the reason', async () => {
    const page = await newPage();
    await signIn(page, srv.readToken);
    const reason = page.getByRole('note');
    expect(await reason.textContent()).toContain('Read-only token');
    const reasonId = await reason.getAttribute('id');
    const disabledWithReason = async (
      name: string,
      locator = page.getByRole('button', { name, exact: true }),
    ) => {
      expect(await locator.isDisabled(), `${name} is disabled`).toBe(true);
      expect(await locator.getAttribute('aria-describedby'), `${name} names the reason`).toBe(reasonId);
    };
    await disabledWithReason('Upload images', page.getByLabel('Upload images'));
    await page.getByText('Upload from another machine').click();
    await disabledWithReason('Create a one-time upload URL');
    await expectNoSeriousAxe(page, 'read-only images view');
    await page.getByRole('list', { name: 'Images' }).getByRole('link', { name: 'edit-me' }).click();
    await disabledWithReason('Save metadata');
    await disabledWithReason('Require signed URLs', page.getByLabel('Require signed URLs', { exact: true }));
    await disabledWithReason('Delete');
    await expectNoSeriousAxe(page, 'read-only image detail');
    await nav(page, 'Variants').click();
    await disabledWithReason('Save variant');
    await disabledWithReason('Save settings');
    await nav(page, 'Signing keys').click();
    await disabledWithReason('Create key');
    await disabledWithReason('Delete key second');
    // Reading still works: the key can be revealed.
    await page.getByRole('button', { name: 'Reveal key second' }).click();
    await expectNoSeriousAxe(page, 'read-only keys view');
  });

  it('is usable at 375 px wide: no horizontal scrolling, the grid in two columns, axe-clean', async () => {
    for (const n of [1, 2])
      if ((await srv.api('GET', `/images/v1/narrow-${n}`)).status === 404)
        await apiUpload(await makeImage('png', 30, 30), { id: `narrow-${n}` });
    const page = await newPage({ width: 375 });
    await signIn(page);
    const overflow = () =>
      page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.getByRole('heading', { name: 'Library' }).scrollIntoViewIfNeeded();
    const columns = () =>
      page
        .getByRole('list', { name: 'Images' })
        .getByRole('listitem')
        .evaluateAll((els) => new Set(els.map((e) => Math.round(e.getBoundingClientRect().left))).size);
    await expect.poll(columns).toBe(2);
    await expectNoSeriousAxe(page, 'images at 375 px');
    await page.getByRole('list', { name: 'Images' }).getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Variants', level: 2 }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await expectNoSeriousAxe(page, 'image detail at 375 px');
    for (const view of ['Variants', 'Signing keys']) {
      await nav(page, view).click();
      await page.getByRole('heading', { name: view, level: 1 }).waitFor();
      expect(await overflow(), view).toBeLessThanOrEqual(0);
      await expectNoSeriousAxe(page, `${view} at 375 px`);
    }
  });

  it('works with the keyboard only, with a visible focus ring', async () => {
    const page = await newPage();
    await page.goto(srv.dashboard);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('account-id');
    await page.keyboard.type(srv.accountId);
    await page.keyboard.press('Tab');
    await page.keyboard.type(srv.token);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Images', level: 1 }).waitFor();
    const focused = async () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const s = getComputedStyle(el);
        return {
          text: el.textContent?.trim() ?? '',
          outline: s.outlineStyle,
          width: parseFloat(s.outlineWidth),
        };
      });
    // Tab to the "Variants" link and follow it with Enter.
    let f = await focused();
    for (let i = 0; i < 10 && f.text !== 'Variants'; i++) {
      await page.keyboard.press('Tab');
      f = await focused();
    }
    expect(f.text).toBe('Variants');
    expect(f.outline).not.toBe('none');
    expect(f.width).toBeGreaterThanOrEqual(2);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Variants', level: 1 }).waitFor();
    // A variant form filled and sent from the keyboard.
    await page.getByLabel('Name').focus();
    await page.keyboard.type('kbd');
    await page.keyboard.press('Tab');
    await page.keyboard.type('50');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Saved variant kbd' }).waitFor();
    expect((await srv.api('GET', '/images/v1/variants/kbd')).status).toBe(200);
  });

  it('follows the system colour scheme; screenshots of the main views, light and dark', {
    timeout: 120_000,
  }, async () => {
    const shots: Record<string, Buffer> = {};
    for (const scheme of ['light', 'dark'] as const) {
      const page = await newPage({ colorScheme: scheme, width: 1100 });
      await signIn(page);
      await page.getByRole('list', { name: 'Images' }).getByRole('img').first().waitFor();
      await page.waitForLoadState('networkidle');
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(bg, scheme).toBe(scheme === 'light' ? 'rgb(255, 255, 255)' : 'rgb(18, 20, 23)');
      await expectNoSeriousAxe(page, `images (${scheme})`);
      shots[`images-${scheme}`] = await page.screenshot({ type: 'png' });
      await page.getByRole('list', { name: 'Images' }).getByRole('link', { name: 'for-variants' }).click();
      await page.getByRole('img', { name: 'Preview of variant public' }).waitFor();
      await page.waitForLoadState('networkidle');
      await expectNoSeriousAxe(page, `detail (${scheme})`);
      shots[`detail-${scheme}`] = await page.screenshot({ type: 'png' });
      await nav(page, 'Variants').click();
      await page.getByRole('heading', { name: 'Variants', level: 1 }).waitFor();
      await expectNoSeriousAxe(page, `variants (${scheme})`);
      shots[`variants-${scheme}`] = await page.screenshot({ type: 'png' });
      await nav(page, 'Signing keys').click();
      await page.getByRole('heading', { name: 'Signing keys', level: 1 }).waitFor();
      await expectNoSeriousAxe(page, `keys (${scheme})`);
      shots[`keys-${scheme}`] = await page.screenshot({ type: 'png' });
    }
    const signInPage = await newPage({ colorScheme: 'dark', width: 800 });
    await signInPage.goto(srv.dashboard);
    await signInPage.getByRole('button', { name: 'Sign in' }).waitFor();
    await expectNoSeriousAxe(signInPage, 'sign-in (dark)');
    shots['sign-in-dark'] = await signInPage.screenshot({ type: 'png' });
    // Written to docs/screenshots only on request: PICTOR_SCREENSHOTS=1 npx vitest run test/browser/dashboard.test.ts
    if (process.env.PICTOR_SCREENSHOTS === '1') {
      const dir = new URL('../../docs/screenshots/', import.meta.url);
      mkdirSync(dir, { recursive: true });
      for (const [name, png] of Object.entries(shots)) {
        const small = await sharp(png)
          .resize({ width: 800 })
          .png({ palette: true, quality: 80, compressionLevel: 9 })
          .toBuffer();
        writeFileSync(new URL(`${name}.png`, dir), small);
      }
    }
  });

  it('no CSP violation or script error on any page', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('dashboard with 5,000 images', () => {
  let big: DashboardServer;
  beforeAll(async () => {
    big = await startDashboardServer({ seed: 5000 });
  }, 120_000);
  afterAll(async () => {
    await big?.close();
  });

  it('pages through all of them with continuation tokens while the DOM stays bounded', {
    timeout: 180_000,
  }, async () => {
    const page = await newPage({ width: 1200 });
    await signIn(page, big.token, big);
    const grid = page.getByRole('list', { name: 'Images' });
    const status = page.getByText(/images? shown/);
    let maxItems = 0;
    let maxNodes = 0;
    for (let i = 0; i < 200; i++) {
      const text = (await status.textContent()) ?? '';
      if (text.startsWith('5000 images shown') && !text.includes('more')) break;
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await page.waitForTimeout(100);
      maxItems = Math.max(maxItems, await grid.getByRole('listitem').count());
      maxNodes = Math.max(maxNodes, await page.evaluate(() => document.getElementsByTagName('*').length));
    }
    expect(await status.textContent()).toBe('5000 images shown');
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    // The API's last image is rendered at the bottom, its first one is not.
    const firstId = (await big.api<{ images: Array<{ id: string }> }>('GET', '/images/v2?per_page=10')).body
      .result.images[0]!.id;
    const lastId = firstId === 'seed-00000' ? 'seed-04999' : 'seed-00000';
    await grid.getByRole('link', { name: lastId }).waitFor();
    expect(await grid.getByRole('link', { name: firstId }).count()).toBe(0);
    expect(Number(await grid.getByRole('listitem').last().getAttribute('aria-setsize'))).toBe(5000);
    expect(maxItems, 'grid cells in the DOM').toBeLessThan(120);
    expect(maxNodes, 'elements in the whole page').toBeLessThan(1500);
    // Scrolling back to the top renders the newest again.
    await page.evaluate(() => window.scrollTo(0, 0));
    await grid.getByRole('link', { name: firstId }).waitFor();
  });
});
