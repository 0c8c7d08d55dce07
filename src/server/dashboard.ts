/**
 * Serves the built dashboard (dashboard/, built by `npm run build` into dist/dashboard) at /dashboard/.
 * The server side is only static files: the browser code is a client of the public API.
 * Its HTML carries a strict Content-Security-Policy: scripts and styles from this origin only, API calls
 * to this origin only, images from this origin and the delivery origin (signed thumbnails), no frames.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

export const DASHBOARD_PREFIX = '/dashboard/';

/** Where the build lives: beside the compiled server (dist/server → dist/dashboard), else the repo's dist/. */
export function dashboardRoot(): string | undefined {
  const candidates = [
    new URL('../dashboard/', import.meta.url),
    new URL('../../dist/dashboard/', import.meta.url),
  ];
  return candidates.map((u) => fileURLToPath(u)).find((dir) => existsSync(`${dir}index.html`));
}

/**
 * The dashboard HTML's policy; `imageOrigins` are the origins of delivery URLs when not this one.
 * @example dashboardCsp(['https://img.example.net'])
 */
export function dashboardCsp(imageOrigins: string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' blob: ${imageOrigins.join(' ')}`.trim(),
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** Mounts /dashboard and /dashboard/*; `publicUrl()` is read per request (the port is known only after listen). */
export async function dashboardRoutes(
  app: FastifyInstance,
  opts: { root?: string; publicUrl: () => string },
): Promise<void> {
  const root = opts.root ?? dashboardRoot();
  app.get('/dashboard', async (_req, reply) => reply.redirect(DASHBOARD_PREFIX, 301));
  if (!root) {
    // Started from source without a build: say how to get one instead of a bare 404.
    app.get('/dashboard/*', async (_req, reply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The dashboard is not built: run `npm run build` (npm start does it).\n'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: DASHBOARD_PREFIX,
    decorateReply: false,
    setHeaders(res, path) {
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      if (path.endsWith('.html')) {
        const delivery = originOf(opts.publicUrl());
        res.setHeader('content-security-policy', dashboardCsp(delivery ? [delivery] : []));
        res.setHeader('cache-control', 'no-cache');
      } else if (path.includes('/assets/')) {
        // Vite names assets by content hash.
        res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      }
    },
  });
}
