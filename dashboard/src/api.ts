/**
 * A client of the public Cloudflare Images API (same origin, `/client/v4`), nothing else. The token
 * travels only in the Authorization header; errors surface the API's own message.
 */
import type { ImageJson } from '../../src/api/image-json';

export interface Session {
  accountId: string;
  token: string;
}

/** The Image object, as the server's API layer defines it (a type-only import: no server code ships). */
export type Image = ImageJson;

export type Fit = 'scale-down' | 'contain' | 'cover' | 'crop' | 'pad';
export type MetadataMode = 'keep' | 'copyright' | 'none';
export const FITS: Fit[] = ['scale-down', 'contain', 'cover', 'crop', 'pad'];
export const METADATA_MODES: MetadataMode[] = ['keep', 'copyright', 'none'];

export interface Variant {
  id: string;
  options: { fit: Fit; metadata: MetadataMode; width?: number; height?: number };
  neverRequireSignedURLs: boolean;
}

export interface SigningKey {
  name: string;
  value: string;
}

export interface Stats {
  count: { current: number; allowed: number };
}

export interface AccountConfig {
  flexible_variants: boolean;
  browser_ttl: number;
}

/** An API failure: the HTTP status and the first error's code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

interface Envelope<T> {
  result: T;
  success: boolean;
  errors: Array<{ code: number; message: string }>;
}

const API_BASE = '/client/v4';

function errorOf(status: number, body: unknown): ApiError {
  const env = body as Partial<Envelope<unknown>> | null;
  const first = env && Array.isArray(env.errors) ? env.errors[0] : undefined;
  if (first) return new ApiError(status, first.code, `${first.message} (code ${first.code})`);
  return new ApiError(status, undefined, `The server answered HTTP ${status}`);
}

export class Api {
  constructor(readonly session: Session) {}

  get base(): string {
    return `${API_BASE}/accounts/${encodeURIComponent(this.session.accountId)}`;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.session.token}`, ...extra };
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, undefined, 'The server could not be reached');
    }
    let json: unknown = null;
    try {
      json = await res.json();
    } catch {
      // A non-JSON answer falls through to the status message.
    }
    const env = json as Envelope<T> | null;
    if (!res.ok || !env || env.success !== true) throw errorOf(res.status, json);
    return env.result;
  }

  stats(): Promise<Stats> {
    return this.call('GET', '/images/v1/stats');
  }

  /**
   * Whether the token may write. Cloudflare has no endpoint that lists a token's permissions, so the
   * dashboard asks with a write that changes nothing: PATCH of an image id that does not exist. Images
   * Write gets 404 (5404), Images Read only gets 403 (10000). See docs/compat.md.
   */
  async canWrite(): Promise<boolean> {
    const probe = `pictor-dashboard-write-probe-${crypto.randomUUID()}`;
    try {
      await this.call('PATCH', `/images/v1/${encodeURIComponent(probe)}`, {});
      return true;
    } catch (e) {
      return !(e instanceof ApiError && e.status === 403);
    }
  }

  listV2(opts: {
    perPage: number;
    token?: string;
    creator?: string;
    meta?: { field: string; value: string };
  }): Promise<{ images: Image[]; continuation_token: string | null }> {
    const q = new URLSearchParams({ per_page: String(opts.perPage) });
    if (opts.token) q.set('continuation_token', opts.token);
    if (opts.creator) q.set('creator', opts.creator);
    if (opts.meta) q.set(`meta.${opts.meta.field}[eq]`, opts.meta.value);
    return this.call('GET', `/images/v2?${q}`);
  }

  image(id: string): Promise<Image> {
    return this.call('GET', `/images/v1/${encodeId(id)}`);
  }

  patchImage(
    id: string,
    patch: { metadata?: Record<string, unknown>; requireSignedURLs?: boolean },
  ): Promise<Image> {
    return this.call('PATCH', `/images/v1/${encodeId(id)}`, patch);
  }

  deleteImage(id: string): Promise<unknown> {
    return this.call('DELETE', `/images/v1/${encodeId(id)}`);
  }

  /** The original: its size in bytes, content type and an object URL for reading its dimensions. */
  async original(id: string): Promise<{ size: number; type: string; blob: Blob }> {
    const res = await fetch(`${this.base}/images/v1/${encodeId(id)}/blob`, { headers: this.headers() });
    if (!res.ok) throw errorOf(res.status, await res.json().catch(() => null));
    const blob = await res.blob();
    return { size: blob.size, type: res.headers.get('content-type') ?? blob.type, blob };
  }

  async variants(): Promise<Variant[]> {
    const r = await this.call<{ variants: Record<string, Variant> }>('GET', '/images/v1/variants');
    return Object.values(r.variants);
  }

  createVariant(v: Variant): Promise<unknown> {
    return this.call('POST', '/images/v1/variants', v);
  }

  updateVariant(v: Variant): Promise<unknown> {
    return this.call('PATCH', `/images/v1/variants/${encodeURIComponent(v.id)}`, {
      options: v.options,
      neverRequireSignedURLs: v.neverRequireSignedURLs,
    });
  }

  deleteVariant(id: string): Promise<unknown> {
    return this.call('DELETE', `/images/v1/variants/${encodeURIComponent(id)}`);
  }

  async keys(): Promise<SigningKey[]> {
    return (await this.call<{ keys: SigningKey[] }>('GET', '/images/v1/keys')).keys;
  }

  async createKey(name: string): Promise<SigningKey[]> {
    return (await this.call<{ keys: SigningKey[] }>('PUT', `/images/v1/keys/${encodeURIComponent(name)}`))
      .keys;
  }

  async deleteKey(name: string): Promise<SigningKey[]> {
    return (await this.call<{ keys: SigningKey[] }>('DELETE', `/images/v1/keys/${encodeURIComponent(name)}`))
      .keys;
  }

  config(): Promise<AccountConfig> {
    return this.call('GET', '/images/v1/config');
  }

  patchConfig(patch: Partial<AccountConfig>): Promise<AccountConfig> {
    return this.call('PATCH', '/images/v1/config', patch);
  }

  directUpload(): Promise<{ id: string; uploadURL: string }> {
    return this.call('POST', '/images/v2/direct_upload', {});
  }

  /**
   * Uploads one file with XMLHttpRequest, the one browser API that reports upload progress
   * (fetch has no upload progress events).
   */
  upload(
    file: File,
    opts: { id?: string; metadata?: Record<string, unknown>; requireSignedURLs?: boolean },
    onProgress: (fraction: number) => void,
  ): Promise<Image> {
    const form = new FormData();
    form.append('file', file, file.name);
    if (opts.id) form.append('id', opts.id);
    if (opts.metadata) form.append('metadata', JSON.stringify(opts.metadata));
    if (opts.requireSignedURLs) form.append('requireSignedURLs', 'true');
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${this.base}/images/v1`);
      xhr.setRequestHeader('authorization', `Bearer ${this.session.token}`);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded / e.total);
      };
      xhr.onerror = () => reject(new ApiError(0, undefined, 'The upload could not reach the server'));
      xhr.onload = () => {
        let body: unknown = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          // Falls through to the status message.
        }
        const env = body as Envelope<Image> | null;
        if (xhr.status >= 200 && xhr.status < 300 && env?.success) {
          onProgress(1);
          resolve(env.result);
        } else reject(errorOf(xhr.status, body));
      };
      xhr.send(form);
    });
  }
}

/** Custom ids contain `/`: each segment is encoded, the slashes kept (as the API expects). */
export function encodeId(id: string): string {
  return id.split('/').map(encodeURIComponent).join('/');
}
