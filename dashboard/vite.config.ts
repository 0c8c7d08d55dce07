/**
 * The dashboard build: `npm run build` runs `vite build --config dashboard/vite.config.ts`, writing
 * dist/dashboard (served at /dashboard/ by src/server/dashboard.ts). Preact's JSX through Vite's own
 * transformer, so no Babel preset is needed.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/dashboard/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No inline assets: the page's CSP allows images only from this origin and the delivery origin.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
});
