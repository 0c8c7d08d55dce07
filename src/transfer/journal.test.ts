/**
 * The state file: every record written and fsync'd before `item()` returns, what a run killed with
 * SIGKILL had acknowledged is all there, a torn last line is ignored and fenced off, and a state file
 * of another run is refused.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Journal } from './journal.js';

// Every write and fsync the journal makes, in order (the real calls still happen).
const ops = vi.hoisted(() => [] as Array<{ op: 'write' | 'fsync'; fd: number }>);
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    writeSync: (fd: number, ...rest: unknown[]) => {
      ops.push({ op: 'write', fd });
      return (real.writeSync as (...a: unknown[]) => number)(fd, ...rest);
    },
    fsyncSync: (fd: number) => {
      ops.push({ op: 'fsync', fd });
      real.fsyncSync(fd);
    },
  };
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pictor-journal-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const fresh = () => join(dir, `state-${++n}.jsonl`);
const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');

describe('Journal', () => {
  it('writes each record as one line and fsyncs it before the call returns', async () => {
    const path = fresh();
    ops.length = 0;
    const { journal, resume } = await Journal.open(path, 'run A');
    expect(resume).toEqual({
      cursor: null,
      done: new Set(),
      earlier: { copied: 0, skipped: 0, ignored: 0, bytes: 0 },
    });
    const check = (recordsSoFar: number) => {
      // What is on disk now, read through another descriptor, is every record so far.
      expect(lines(path)).toHaveLength(recordsSoFar);
      // Each write was followed by an fsync of the same descriptor, the fsync last.
      expect(ops.filter((o) => o.op === 'write')).toHaveLength(recordsSoFar);
      expect(ops.filter((o) => o.op === 'fsync')).toHaveLength(recordsSoFar);
      expect(ops.at(-1)!.op).toBe('fsync');
      for (let i = 0; i < ops.length; i += 2) {
        expect(ops[i]!.op).toBe('write');
        expect(ops[i + 1]).toEqual({ op: 'fsync', fd: ops[i]!.fd });
      }
    };
    check(1); // the header
    journal.item('a/b/ñ', 'copied', 10);
    check(2);
    journal.item('x', 'skipped', 0);
    check(3);
    journal.checkpoint('cursor-2');
    check(4);
    journal.item('y', 'ignored', 0);
    check(5);
    journal.close();
    expect(lines(path).map((l) => JSON.parse(l))).toEqual([
      { run: 'run A' },
      { k: 'a/b/ñ', r: 'copied', b: 10 },
      { k: 'x', r: 'skipped', b: 0 },
      { cp: 'cursor-2' },
      { k: 'y', r: 'ignored', b: 0 },
    ]);
    expect(() => journal.item('z', 'copied', 1)).toThrow('journal is closed');
  });

  it('resumes from the last checkpoint with the items finished after it, and counts earlier totals', async () => {
    const path = fresh();
    const { journal } = await Journal.open(path, 'run B');
    journal.item('p1', 'copied', 100);
    journal.item('p2', 'skipped', 0);
    journal.checkpoint('page-2');
    journal.item('p3', 'copied', 30);
    journal.item('p4', 'ignored', 0);
    journal.close();
    const again = await Journal.open(path, 'run B');
    again.journal.close();
    expect(again.resume).toEqual({
      cursor: 'page-2',
      done: new Set(['p3', 'p4']),
      earlier: { copied: 2, skipped: 1, ignored: 1, bytes: 130 },
    });
    // Reopening the same run does not repeat the header.
    expect(lines(path).filter((l) => l.includes('"run"'))).toHaveLength(1);
  });

  it('a checkpoint keeps the items of later pages finished before it', async () => {
    const path = fresh();
    const { journal } = await Journal.open(path, 'run K');
    journal.item('page1/a', 'copied', 1);
    journal.item('page2/early', 'copied', 1);
    journal.item('page1/last', 'copied', 1);
    journal.checkpoint('page-2', ['page2/early']);
    journal.item('page2/late', 'skipped', 0);
    journal.close();
    const { journal: reopened, resume } = await Journal.open(path, 'run K');
    reopened.close();
    expect(resume.cursor).toBe('page-2');
    expect(resume.done).toEqual(new Set(['page2/early', 'page2/late']));
    expect(resume.earlier).toEqual({ copied: 3, skipped: 1, ignored: 0, bytes: 3 });
    expect(lines(path)[4]).toBe('{"cp":"page-2","keep":["page2/early"]}');
  });

  it('ignores a torn last line (a kill mid-write) and starts the next record on a line of its own', async () => {
    const path = fresh();
    const first = await Journal.open(path, 'run C');
    first.journal.item('kept-1', 'copied', 1);
    first.journal.item('kept-2', 'copied', 2);
    first.journal.close();
    // What a kill in the middle of writeSync leaves: half a record, no newline.
    appendFileSync(path, '{"k":"torn","r":"cop');
    const second = await Journal.open(path, 'run C');
    expect(second.resume.done).toEqual(new Set(['kept-1', 'kept-2']));
    expect(second.resume.earlier.copied).toBe(2);
    second.journal.item('after', 'copied', 5);
    second.journal.close();
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('{"k":"torn","r":"cop\n{"k":"after","r":"copied","b":5}\n')).toBe(true);
    const third = await Journal.open(path, 'run C');
    third.journal.close();
    // The torn item is not done (it is tried again); everything else is.
    expect(third.resume.done).toEqual(new Set(['kept-1', 'kept-2', 'after']));
    expect(third.resume.earlier).toEqual({ copied: 3, skipped: 0, ignored: 0, bytes: 8 });
  });

  it('a whole last record without its newline counts, and the next one still gets its own line', async () => {
    const path = fresh();
    writeFileSync(path, '{"run":"run D"}\n{"k":"whole","r":"skipped","b":0}');
    const opened = await Journal.open(path, 'run D');
    expect(opened.resume.done).toEqual(new Set(['whole']));
    opened.journal.item('next', 'copied', 1);
    opened.journal.close();
    expect(lines(path).map((l) => JSON.parse(l))).toEqual([
      { run: 'run D' },
      { k: 'whole', r: 'skipped', b: 0 },
      { k: 'next', r: 'copied', b: 1 },
    ]);
  });

  it('a finished pass makes the next run start afresh', async () => {
    const path = fresh();
    const { journal } = await Journal.open(path, 'run E');
    journal.item('a', 'copied', 1);
    journal.checkpoint('c');
    journal.item('b', 'copied', 1);
    journal.done();
    journal.close();
    expect(await Journal.read(path, 'run E')).toEqual({
      cursor: null,
      done: new Set(),
      earlier: { copied: 0, skipped: 0, ignored: 0, bytes: 0 },
    });
  });

  it('refuses the state file of another run, and read() writes nothing', async () => {
    const path = fresh();
    const { journal } = await Journal.open(path, 'migrate a -> b');
    journal.item('a', 'copied', 1);
    journal.close();
    const before = readFileSync(path, 'utf8');
    await expect(Journal.open(path, 'migrate a -> c')).rejects.toThrow(
      /belongs to another run \(migrate a -> b\); give another --state or delete it/,
    );
    expect((await Journal.read(path, 'migrate a -> b')).done).toEqual(new Set(['a']));
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(fs.existsSync(join(dir, 'never.jsonl'))).toBe(false);
    expect((await Journal.read(join(dir, 'never.jsonl'), 'x')).cursor).toBeNull();
    expect(fs.existsSync(join(dir, 'never.jsonl'))).toBe(false);
  });

  it('keeps every record a process acknowledged before it was killed with SIGKILL', async () => {
    const path = fresh();
    // A child journals items as fast as it can and prints each key once item() has returned.
    const script = `
      const { Journal } = await import(${JSON.stringify(new URL('./journal.ts', import.meta.url).pathname)});
      const { journal } = await Journal.open(${JSON.stringify(path)}, 'kill run');
      for (let i = 0; ; i++) { journal.item('item-' + i, 'copied', i); process.stdout.write('item-' + i + '\\n'); }
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const closed = new Promise<NodeJS.Signals | null>((r) => child.on('close', (_code, signal) => r(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.split('\n').length > 300) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('close', () => reject(new Error(`the child ended by itself: ${err}`)));
    });
    expect(await closed).toBe('SIGKILL');
    // Whole lines only: a chunk can end inside a key.
    const acknowledged = out.slice(0, out.lastIndexOf('\n')).split('\n');
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);
    for (const key of acknowledged) expect(key).toMatch(/^item-\d+$/);
    const { done } = await Journal.read(path, 'kill run');
    for (const key of acknowledged) expect(done.has(key), key).toBe(true);
  }, 60_000);
});
