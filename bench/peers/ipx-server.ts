/**
 * Peer of benchmark 3: ipx (unjs, sharp-based) serving the files of the directory argv[2] through its
 * own node server, with its defaults. Prints {"port": N} when listening.
 * URL grammar: /<modifiers>/<file>, e.g. /s_512x512,fit_inside,f_webp,q_85/photo-1.jpg.
 */
import { createServer } from 'node:http';
import { createIPX, createIPXNodeServer, ipxFSStorage } from 'ipx';

const ipx = createIPX({ storage: ipxFSStorage({ dir: process.argv[2]! }) });
const server = createServer(createIPXNodeServer(ipx));
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
