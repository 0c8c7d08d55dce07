/**
 * A client for any Cloudflare-Images-compatible API (Cloudflare itself or Pictor): only the calls a
 * transfer needs, through `Http` (retries). Every failure is an `ApiError` naming the call and the
 * API's own error code and message.
 */
import { Http } from './http.js';

export interface ImageJson {
  id: string;
  filename?: string;
  meta?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  creator?: string | null;
  requireSignedURLs: boolean;
  uploaded: string;
  variants: string[];
}

export interface VariantJson {
  id: string;
  options: Record<string, unknown>;
  neverRequireSignedURLs?: boolean;
}

export interface AccountConfig {
  flexible_variants: boolean;
  browser_ttl: number;
}

export interface UploadFields {
  data: Buffer;
  filename: string;
  id?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  creator?: string | null | undefined;
  requireSignedURLs?: boolean | undefined;
  /** Pictor extension: the original upload time (ISO 8601). */
  uploaded?: string | undefined;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly codes: number[],
  ) {
    super(message);
  }
}

/** Image ids travel with each `/`-separated segment percent-encoded (custom ids contain `/`). */
export function encodeId(id: string): string {
  return id.split('/').map(encodeURIComponent).join('/');
}

/** The metadata of an Image JSON (Cloudflare's field is `meta`). */
export function metaOf(image: ImageJson): Record<string, unknown> {
  return image.meta ?? image.metadata ?? {};
}

/** The account hash in a delivery URL (`imagedelivery.net/<hash>/…` or `/cdn-cgi/imagedelivery/<hash>/…`). */
export function hashFromDeliveryUrl(url: string): string | undefined {
  const m = /(?:imagedelivery\.net|\/cdn-cgi\/imagedelivery)\/([A-Za-z0-9_-]{22})\//.exec(url);
  return m?.[1];
}

export class ImagesApi {
  private readonly root: string;

  /** `base` ends in `/client/v4`. */
  constructor(
    base: string,
    readonly accountId: string,
    private readonly token: string,
    readonly http: Http = new Http(),
  ) {
    this.root = `${base.replace(/\/+$/, '')}/accounts/${encodeURIComponent(accountId)}`;
  }

  /** The URL of a path under the account, for messages. */
  url(path: string): string {
    return `${this.root}${path}`;
  }

  private async call<T>(
    method: string,
    path: string,
    opts: { json?: unknown; form?: () => FormData; allow404?: boolean } = {},
  ): Promise<T | null> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let body: (() => BodyInit) | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      const text = JSON.stringify(opts.json);
      body = () => text;
    } else if (opts.form) body = opts.form;
    const res = await this.http.fetch(this.url(path), { method, headers, ...(body ? { body } : {}) });
    if (res.status === 404 && opts.allow404) {
      await res.arrayBuffer().catch(() => undefined);
      return null;
    }
    const text = await res.text();
    let parsed:
      | { success?: boolean; result?: T; errors?: Array<{ code: number; message: string }> }
      | undefined;
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    if (!res.ok || !parsed || parsed.success === false) {
      const errors = parsed?.errors ?? [];
      const detail =
        errors.length > 0 ? errors.map((e) => `${e.code}: ${e.message}`).join('; ') : text.slice(0, 200);
      throw new ApiError(
        `${method} ${path}: HTTP ${res.status} ${detail}`,
        res.status,
        errors.map((e) => e.code),
      );
    }
    return parsed.result as T;
  }

  /** One page of the v2 list, oldest first. */
  async listV2(
    continuationToken: string | null,
    perPage: number,
  ): Promise<{ images: ImageJson[]; continuation_token: string | null }> {
    const q = new URLSearchParams({ per_page: String(perPage), sort_order: 'asc' });
    if (continuationToken) q.set('continuation_token', continuationToken);
    const r = await this.call<{ images: ImageJson[]; continuation_token?: string | null }>(
      'GET',
      `/images/v2?${q}`,
    );
    return { images: r!.images, continuation_token: r!.continuation_token ?? null };
  }

  details(id: string): Promise<ImageJson | null> {
    return this.call<ImageJson>('GET', `/images/v1/${encodeId(id)}`, { allow404: true });
  }

  /** The original bytes. */
  async blob(id: string): Promise<Buffer> {
    const path = `/images/v1/${encodeId(id)}/blob`;
    const res = await this.http.fetch(this.url(path), { headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw new ApiError(`GET ${path}: HTTP ${res.status} ${text.slice(0, 200)}`, res.status, []);
    }
    return Buffer.from(await res.arrayBuffer());
  }

  async upload(f: UploadFields): Promise<ImageJson> {
    const form = () => {
      const fd = new FormData();
      if (f.id !== undefined) fd.set('id', f.id);
      if (f.metadata !== undefined && Object.keys(f.metadata).length > 0)
        fd.set('metadata', JSON.stringify(f.metadata));
      if (f.creator) fd.set('creator', f.creator);
      if (f.requireSignedURLs) fd.set('requireSignedURLs', 'true');
      if (f.uploaded !== undefined) fd.set('uploaded', f.uploaded);
      fd.set('file', new Blob([new Uint8Array(f.data)]), f.filename);
      return fd;
    };
    return (await this.call<ImageJson>('POST', '/images/v1', { form }))!;
  }

  async patch(
    id: string,
    patch: { metadata?: Record<string, unknown>; creator?: string | null; requireSignedURLs?: boolean },
  ): Promise<ImageJson> {
    return (await this.call<ImageJson>('PATCH', `/images/v1/${encodeId(id)}`, { json: patch }))!;
  }

  async delete(id: string): Promise<void> {
    await this.call('DELETE', `/images/v1/${encodeId(id)}`);
  }

  async variants(): Promise<VariantJson[]> {
    const r = await this.call<{ variants: Record<string, VariantJson> }>('GET', '/images/v1/variants');
    return Object.values(r!.variants ?? {});
  }

  async createVariant(v: VariantJson): Promise<void> {
    await this.call('POST', '/images/v1/variants', {
      json: { id: v.id, options: v.options, neverRequireSignedURLs: v.neverRequireSignedURLs ?? false },
    });
  }

  async updateVariant(v: VariantJson): Promise<void> {
    await this.call('PATCH', `/images/v1/variants/${encodeURIComponent(v.id)}`, {
      json: { options: v.options, neverRequireSignedURLs: v.neverRequireSignedURLs ?? false },
    });
  }

  async config(): Promise<AccountConfig> {
    return (await this.call<AccountConfig>('GET', '/images/v1/config'))!;
  }

  async setConfig(c: Partial<AccountConfig>): Promise<AccountConfig> {
    return (await this.call<AccountConfig>('PATCH', '/images/v1/config', { json: c }))!;
  }

  async keys(): Promise<Array<{ name: string; value: string }>> {
    return (await this.call<{ keys: Array<{ name: string; value: string }> }>('GET', '/images/v1/keys'))!
      .keys;
  }

  /** PUT keys/{name}; with a value (Pictor extension) the target may keep it. Returns all keys. */
  async putKey(name: string, value?: string): Promise<Array<{ name: string; value: string }>> {
    const r = await this.call<{ keys: Array<{ name: string; value: string }> }>(
      'PUT',
      `/images/v1/keys/${encodeURIComponent(name)}`,
      value === undefined ? {} : { json: { value } },
    );
    return r!.keys;
  }

  /** How many images the account holds (for progress totals). */
  async count(): Promise<number | undefined> {
    try {
      const r = await this.call<{ count: { current: number } }>('GET', '/images/v1/stats');
      return r?.count.current;
    } catch {
      return undefined;
    }
  }
}
