/**
 * HTTP for transfers: Node's fetch with retries. 429 and 5xx answers and network failures are tried
 * again up to `retries` times, waiting what `Retry-After` asks (seconds or an HTTP date, capped) or an
 * exponential backoff with jitter. Hand-written because p-retry would still need the Retry-After
 * reading and the status rules, which are most of these lines.
 */

export interface HttpOptions {
  /** Extra attempts after the first (default 5). */
  retries?: number;
  /** First backoff in ms (default 500); doubles each attempt, with jitter, up to `maxDelayMs`. */
  baseDelayMs?: number;
  /** Longest wait between attempts, also the cap on Retry-After (default 30 s). */
  maxDelayMs?: number;
  /** Per-attempt timeout (default 120 s). */
  timeoutMs?: number;
  /** Called before each retry (for logs and tests). */
  onRetry?: (info: {
    url: string;
    attempt: number;
    status: number | null;
    delayMs: number;
    reason: string;
  }) => void;
}

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  /** A body builder, called per attempt (a FormData or stream cannot be sent twice). */
  body?: () => BodyInit;
}

export class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Milliseconds a `Retry-After` value asks for, or undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  // An HTTP-date starts with the day's name (RFC 9110 §5.6.7, all three forms); Date.parse alone
  // would read `-1` or `120abc` as some date and so skip the backoff.
  if (!/^\s*(mon|tue|wed|thu|fri|sat|sun)/i.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

export function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

export class Http {
  readonly retries: number;
  private readonly base: number;
  private readonly max: number;
  private readonly timeout: number;

  constructor(private readonly opts: HttpOptions = {}) {
    this.retries = opts.retries ?? 5;
    this.base = opts.baseDelayMs ?? 500;
    this.max = opts.maxDelayMs ?? 30_000;
    this.timeout = opts.timeoutMs ?? 120_000;
  }

  /**
   * Sends the request, retrying retryable failures. Resolves to the final response whatever its
   * status (a 4xx is the caller's to read); rejects when the retries run out on a network failure.
   */
  async fetch(url: string, req: HttpRequest = {}): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      let failure: string;
      try {
        res = await fetch(url, {
          method: req.method ?? 'GET',
          headers: req.headers ?? {},
          ...(req.body ? { body: req.body() } : {}),
          signal: AbortSignal.timeout(this.timeout),
        });
        if (!retryable(res.status) || attempt >= this.retries) return res;
        failure = `HTTP ${res.status}`;
      } catch (e) {
        if (attempt >= this.retries)
          throw new HttpError(
            `${req.method ?? 'GET'} ${url}: ${describe(e)} (after ${attempt + 1} attempts)`,
            null,
          );
        failure = describe(e);
      }
      const asked = res ? retryAfterMs(res.headers.get('retry-after')) : undefined;
      const backoff = Math.min(this.max, this.base * 2 ** attempt) * (0.5 + Math.random() / 2);
      const delayMs = Math.min(this.max, asked ?? backoff);
      // Drain the body so the connection can be reused.
      await res?.arrayBuffer().catch(() => undefined);
      this.opts.onRetry?.({
        url,
        attempt: attempt + 1,
        status: res?.status ?? null,
        delayMs,
        reason: failure,
      });
      await sleep(delayMs);
    }
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? e.message;
  }
  return String(e);
}
