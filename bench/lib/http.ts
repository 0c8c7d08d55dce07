/** A tiny keep-alive HTTP client for the benchmarks (loopback only), timing each request. */
import { Agent, request } from 'node:http';

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Wall time from the request's start to the last body byte. */
  ms: number;
  /** Body size in bytes. */
  bytes?: number;
}

export function agent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, keepAliveMsecs: 10_000 });
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  agent?: Agent;
  /** Abort after this many ms (default 120 s). */
  timeoutMs?: number;
  /** Count the body's bytes without keeping them (`body` is then empty unless the status is 300+; `bytes` holds the size). */
  discardBody?: boolean;
}

export function http(url: string, opts: RequestOptions = {}): Promise<Response> {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost')
    throw new Error(`benchmark traffic must stay on loopback: ${url}`);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const body =
      opts.body === undefined
        ? undefined
        : typeof opts.body === 'string'
          ? Buffer.from(opts.body)
          : opts.body;
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: opts.method ?? 'GET',
        headers: { ...(opts.headers ?? {}), ...(body ? { 'content-length': body.length } : {}) },
        agent: opts.agent ?? false,
        timeout: opts.timeoutMs ?? 120_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (!opts.discardBody || (res.statusCode ?? 0) >= 300) chunks.push(c);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            ms: performance.now() - t0,
            bytes: n,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request timed out: ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A multipart/form-data body with one `file` part (and optional text fields). */
export function multipart(
  file: Buffer,
  filename: string,
  contentType: string,
  fields: Record<string, string> = {},
): { body: Buffer; contentType: string } {
  const boundary = `----pictorbench${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`,
    ),
  );
  parts.push(file);
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
