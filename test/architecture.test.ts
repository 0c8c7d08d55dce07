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
