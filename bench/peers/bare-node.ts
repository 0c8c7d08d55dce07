/**
 * Baseline of benchmark 1: a bare node:http server answering one Buffer (read once from the file named
 * by argv[2]) to every request, keep-alive like Pictor's server. Prints {"port": N} when listening.
 *
 * With argv[3] = `pictor-headers` it sends the head a cached Pictor answer carries (the same nine
 * headers, constant values) instead of three: the figure then separates what the response itself
 * costs Node (every header is validated and serialised per request) from Pictor's own work.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = readFileSync(process.argv[2]!);
const headers =
  process.argv[3] === 'pictor-headers'
    ? [
        'etag',
        '"0123456789abcdef0123456789abcdef"',
        'cache-control',
        'public, max-age=172800, stale-while-revalidate=7200',
        'vary',
        'Accept',
        'x-content-type-options',
        'nosniff',
        'content-type',
        'image/jpeg',
        'content-length',
        String(body.length),
        'cf-cache-status',
        'HIT',
        'access-control-allow-origin',
        '*',
        'x-request-id',
        '3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d',
      ]
    : {
        'content-type': 'image/jpeg',
        'content-length': body.length,
        'cache-control': 'public, max-age=172800',
      };
const server = createServer((req, res) => {
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
