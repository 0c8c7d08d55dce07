/**
 * The import rules of ARCHITECTURE.md, checked on every file in src/: a folder imports only what the
 * table allows, and sharp is imported only by src/pipeline/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Folder (relative to src) → folders it may import. A folder may always import itself. */
const ALLOWED: Record<string, string[]> = {
  core: [],
  config: ['core'],
  'storage/types.ts': ['core'],
  'storage/sql': ['core', 'storage/types.ts'],
  'storage/sqlite': ['core', 'storage/types.ts', 'storage/sql'],
  'storage/postgres': ['core', 'storage/types.ts', 'storage/sql'],
  'storage/fs': ['core', 'storage/types.ts'],
  'storage/s3': ['core', 'storage/types.ts'],
  'storage/contract': ['core', 'storage/types.ts'],
  transform: ['core'],
  pipeline: ['core', 'transform'],
  security: ['core', 'config'],
  services: ['core', 'storage/types.ts', 'pipeline', 'security', 'transform'],
  api: ['services', 'security', 'core', 'transform'],
  delivery: ['services', 'transform', 'pipeline', 'security', 'core', 'storage/types.ts'],
  server: ['*'],
  transfer: ['core'],
  cli: ['server', 'services', 'config', 'core', 'transfer'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** The ALLOWED key a src-relative path belongs to (longest match). */
function unitOf(rel: string): string | undefined {
  const keys = Object.keys(ALLOWED).sort((a, b) => b.length - a.length);
  return keys.find((k) => rel === k || rel.startsWith(`${k}/`));
}

describe('architecture', () => {
  const all = files(SRC).filter((f) => !f.endsWith('.test.ts'));

  it('every file in src/ belongs to a folder named in ARCHITECTURE.md', () => {
    const orphans = all.map((f) => relative(SRC, f)).filter((rel) => !unitOf(rel));
    expect(orphans).toEqual([]);
  });

  it('every import follows the table', () => {
    const violations: string[] = [];
    for (const file of all) {
      const rel = relative(SRC, file);
      const unit = unitOf(rel)!;
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        if (!spec.startsWith('.')) {
          if (spec === 'sharp' && unit !== 'pipeline') violations.push(`${rel} imports sharp`);
          continue;
        }
        const target = relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
        const targetUnit = unitOf(target);
        if (!targetUnit || targetUnit === unit) continue;
        const allowed = ALLOWED[unit]!;
        if (!allowed.includes('*') && !allowed.includes(targetUnit)) violations.push(`${rel} → ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });
});

/**
 * dashboard/ is a browser client of the public API: its code imports only itself, Preact, and (type-only)
 * the API's response types from src/api/. Its build config alone may import Vite and node:url. Nothing in
 * src/ imports dashboard/.
 */
describe('architecture: dashboard/', () => {
  const DASHBOARD = resolve(SRC, '../dashboard');
  const PACKAGES = new Set(['preact', 'preact/hooks']);
  const CONFIG_PACKAGES = new Set(['vite', 'node:url']);
  const dashFiles = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) return dashFiles(full);
      return /\.(ts|tsx)$/.test(name) ? [full] : [];
    });

  it('imports only itself, preact and type-only API types', () => {
    const files = dashFiles(DASHBOARD);
    expect(files.length).toBeGreaterThan(5);
    const violations: string[] = [];
    for (const file of files) {
      const rel = relative(DASHBOARD, file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(
        /(?:^|\n)\s*(import|export)(\s+type)?[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g,
      )) {
        const typeOnly = m[2] !== undefined;
        const spec = (m[3] ?? m[4] ?? m[5])!;
        if (!spec.startsWith('.')) {
          const ok = PACKAGES.has(spec) || (rel === 'vite.config.ts' && CONFIG_PACKAGES.has(spec));
          if (!ok) violations.push(`${rel} imports package ${spec}`);
          continue;
        }
        const target = resolve(dirname(file), spec);
        if (!relative(DASHBOARD, target).startsWith('..')) continue;
        const inApi = relative(join(SRC, 'api'), target);
        if (typeOnly && !inApi.startsWith('..')) continue;
        violations.push(
          `${rel} → ${relative(resolve(SRC, '..'), target)}${typeOnly ? '' : ' (not type-only)'}`,
        );
      }
    }
    expect(violations).toEqual([]);
  });

  it('nothing in src/ imports dashboard/', () => {
    const offenders = files(SRC).filter((f) =>
      /from\s+['"][^'"]*\/dashboard\//.test(readFileSync(f, 'utf8')),
    );
    expect(offenders.map((f) => relative(SRC, f))).toEqual([]);
  });
});
