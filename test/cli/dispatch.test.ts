/**
 * The `pictor` dispatcher as a user meets it: `--version`, `help`, `<command> --help`, unknown commands
 * and options (usage on stderr, exit 2), and the commands that touch a store (account create, token
 * create, gc) on a fresh data dir.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const dataDir = mkdtempSync(join(tmpdir(), 'pictor-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// Each case spawns tsx children; on a loaded 2-core machine one spawn can take seconds.
describe('pictor dispatcher', { timeout: 120_000 }, () => {
  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('help lists every command; <command> --help and help <command> describe one', async () => {
    const r = await runCli(['help']);
    expect(r.code).toBe(0);
    for (const c of ['pictor serve', 'pictor account create', 'pictor token create', 'pictor gc'])
      expect(r.stdout).toContain(c);
    const one = await runCli(['token', 'create', '--help']);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^usage: pictor token create --account ID/);
    expect(one.stdout).toContain('--read-only');
    const same = await runCli(['help', 'token', 'create']);
    expect(same.stdout).toBe(one.stdout);
  });

  it('an unknown command prints the usage on stderr and exits 2', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('unknown command "frobnicate"');
    expect(r.stderr).toContain('usage: pictor');
    const partial = await runCli(['account', 'explode']);
    expect(partial.code).toBe(2);
  });

  it('an unknown option or a bad value exits 2 with the command usage', async () => {
    const bogus = await runCli(['gc', '--bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("Unknown option '--bogus'");
    expect(bogus.stderr).toContain('usage: pictor gc');
    const bad = await runCli(['gc', '--grace-seconds', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--grace-seconds takes a whole number');
  });

  it('account create, token create and gc work on a data dir', async () => {
    const env = { PICTOR_DATA_DIR: dataDir };
    const made = await runCli(['account', 'create', '--allowance', '5'], env);
    expect(made.code, made.stderr).toBe(0);
    const account = JSON.parse(made.stdout) as { accountId: string; accountHash: string; token: string };
    expect(account.accountId).toMatch(/^[0-9a-f]{32}$/);
    const token = await runCli(['token', 'create', '--account', account.accountId, '--read-only'], env);
    expect(token.code, token.stderr).toBe(0);
    expect(JSON.parse(token.stdout)).toMatchObject({ permissions: ['read'] });
    const missing = await runCli(['token', 'create', '--account', '0'.repeat(32)], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such account');
    const gc = await runCli(['gc', '--grace-seconds', '0'], env);
    expect(gc.code, gc.stderr).toBe(0);
    expect(JSON.parse(gc.stdout)).toBeTypeOf('object');
  });
});
