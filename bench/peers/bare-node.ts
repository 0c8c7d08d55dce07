/**
 * Baseline of benchmark 1: a bare node:http server answering one Buffer (read once from the file named
 * by argv[2]) to every request, keep-alive like Pictor's server. Prints {"port": N} when listening.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = readFileSync(process.argv[2]!);
const headers = {
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
