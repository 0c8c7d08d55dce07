/**
 * The import rules of ARCHITECTURE.md live in .dependency-cruiser.cjs. This runs dependency-cruiser
 * over the tree and fails on any violation, and shows on a scratch tree that the rules catch what
 * they are for: a folder importing past its row, sharp or a driver outside its home, a dynamic
 * import, src/ importing test/, the dashboard importing src/ at run time, a devDependency at run time
 * and a run-time cycle, while the allowed forms (type-only imports, type-only cycles) pass.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const BIN = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** Runs the dependency-cruiser CLI with the project's rules in `cwd`; its violations. */
async function depcruise(cwd: string, paths: string[]): Promise<Violation[]> {
  const run = promisify(execFile);
  const args = [BIN, '--config', CONFIG, '--output-type', 'json', ...paths];
  // It exits non-zero when it finds a violation; the JSON report is on stdout either way.
  const out = await run(process.execPath, args, { cwd, maxBuffer: 64 * 1024 * 1024 }).catch(
    (e: { stdout?: string; stderr?: string }) => {
      if (!e.stdout) throw new Error(`dependency-cruiser failed: ${e.stderr ?? String(e)}`);
      return { stdout: e.stdout };
    },
  );
  const result = JSON.parse(out.stdout) as { summary: { violations: Violation[] } };
  return result.summary.violations;
}

const show = (vs: Violation[]) => vs.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);

describe('architecture (dependency-cruiser)', () => {
  it('the tree follows every rule of .dependency-cruiser.cjs', { timeout: 300_000 }, async () => {
    const violations = await depcruise(ROOT, ['src', 'test', 'bench', 'scripts', 'dashboard', '*.ts']);
    expect(show(violations)).toEqual([]);
  });

  it('every file in src/ belongs to a folder named in ARCHITECTURE.md', () => {
    // The rule's list of folders, so files that import nothing are checked too.
    const config = createRequire(import.meta.url)(CONFIG) as {
      forbidden: Array<{ name: string; from: { pathNot?: string[] } }>;
    };
    const rule = config.forbidden.find((r) => r.name.startsWith('every file in src/ belongs'));
    const known = (rule?.from.pathNot ?? []).map((p) => new RegExp(p));
    expect(known.length).toBeGreaterThan(10);
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const full = join(dir, name);
        return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
      });
    const orphans = files(join(ROOT, 'src'))
      .map((f) => relative(ROOT, f))
      .filter((rel) => !known.some((re) => re.test(rel)));
    expect(orphans).toEqual([]);
  });

  describe('the rules catch each kind of forbidden import (a scratch tree)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pictor-depcruise-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const put = (rel: string, text: string) => {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text);
    };

    it('reports exactly the forbidden imports', { timeout: 120_000 }, async () => {
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      put(
        'package.json',
        JSON.stringify({
          type: 'module',
          dependencies: { sharp: '*', kysely: '*' },
          devDependencies: { vitest: '*' },
        }),
      );
      put(
        'tsconfig.json',
        JSON.stringify({
          compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
        }),
      );
      put('src/config/index.ts', 'export const loadConfig = () => 1;\n');
      put(
        'src/core/bad.ts',
        "import { loadConfig } from '../config/index.js';\nexport const x = loadConfig;\n",
      );
      put('src/core/a.ts', "import { b } from './b.js';\nexport const a = () => b;\n");
      put('src/core/b.ts', "import { a } from './a.js';\nexport const b = () => a;\n");
      put('src/core/ok-t1.ts', "import type { T2 } from './ok-t2.js';\nexport type T1 = { t: T2 };\n");
      put('src/core/ok-t2.ts', "import type { T1 } from './ok-t1.js';\nexport type T2 = { t?: T1 };\n");
      put('src/pipeline/probe.ts', "import sharp from 'sharp';\nexport const probe = sharp;\n");
      put('src/pipeline/apply-plan.ts', 'export const gate = 1;\n');
      put(
        'src/services/images.ts',
        "import { probe } from '../pipeline/probe.js';\nimport { gate } from '../pipeline/apply-plan.js';\nexport const s = [probe, gate];\n",
      );
      put('src/services/resize.ts', "import sharp from 'sharp';\nexport const r = sharp;\n");
      put('src/storage/sqlite/index.ts', "import { Kysely } from 'kysely';\nexport const k = Kysely;\n");
      put('src/storage/s3/index.ts', 'export const s3 = 1;\n');
      put('src/storage/fs/index.ts', "import { s3 } from '../s3/index.js';\nexport const f = s3;\n");
      put('src/api/lazy.ts', "export const load = () => import('../storage/sqlite/index.js');\n");
      put('src/api/envelope.ts', 'export interface Envelope { ok: boolean }\nexport const ok = 1;\n');
      put('src/server/sql.ts', "import { Kysely } from 'kysely';\nexport const k = Kysely;\n");
      put('src/transform/t.ts', "import { describe } from 'vitest';\nexport const d = describe;\n");
      put('src/delivery/d.ts', "import { h } from '../../test/helpers/h.js';\nexport const d = h;\n");
      put('test/helpers/h.ts', 'export const h = 1;\n');
      put(
        'dashboard/src/ok.ts',
        "import type { Envelope } from '../../src/api/envelope.js';\nexport type E = Envelope;\n",
      );
      put('dashboard/src/bad.ts', "import { ok } from '../../src/api/envelope.js';\nexport const b = ok;\n");
      const found = (await depcruise(dir, ['src', 'test', 'dashboard'])).map(
        (v) => `${v.rule.name}: ${v.from}`,
      );
      expect(found.sort()).toEqual(
        [
          'src/core imports only itself: src/core/bad.ts',
          'no circular imports at run time: src/core/a.ts',
          'src/services imports only core, storage/types.ts, pipeline/probe.ts, pipeline/integrity.ts, pipeline/svg-sanitize.ts, pipeline/gate.ts, security, transform: src/services/images.ts',
          'sharp only from src/pipeline: src/services/resize.ts',
          'src/storage/fs imports only core, storage/types.ts: src/storage/fs/index.ts',
          'src/api imports only services, security, core, transform: src/api/lazy.ts',
          'kysely only from src/storage/sql, src/storage/sqlite, src/storage/postgres: src/server/sql.ts',
          'production code uses no devDependency: src/transform/t.ts',
          'src never imports test/, bench/, scripts/ or dashboard/: src/delivery/d.ts',
          'dashboard imports src/api types only: dashboard/src/bad.ts',
        ].sort(),
      );
    });
  });
});
