/**
 * The state file of a transfer: an append-only JSON-lines journal, each line written and fsync'd
 * before the item counts as done, so a run killed at any instant (kill -9 included) resumes where it
 * stopped. Lines:
 *
 * - `{"run": "<what>"}`: the first line, naming source and sink; a state file of another run is refused;
 * - `{"k": "<item>", "r": "copied" | "skipped" | "ignored", "b": <bytes>}`: one finished item;
 * - `{"cp": <cursor>, "keep": [<item>…]}`: a checkpoint, every item before the source page at `cursor`
 *   is finished, and so are the `keep` items of later pages (journaled before the checkpoint, since
 *   items of a younger page can finish before an older page does);
 * - `{"done": true}`: the pass finished; the next run starts a new pass (and finds everything present).
 *
 * Reading keeps only the items after the last checkpoint, so memory is bounded by the pages in flight,
 * not by the number of images. Totals of earlier runs are kept as counters.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export type ItemResult = 'copied' | 'skipped' | 'ignored';

export interface Resume {
  /** Cursor of the first page to fetch (null: from the start). */
  cursor: string | null;
  /** Items finished after that checkpoint. */
  done: Set<string>;
  /** What earlier runs of this pass finished. */
  earlier: Record<ItemResult, number> & { bytes: number };
}

export class Journal {
  private fd: number | undefined;

  private constructor(readonly path: string) {}

  /**
   * Opens (or creates) the state file for `run`, returning where to resume. Refuses a file that
   * belongs to another run.
   */
  static async open(path: string, run: string): Promise<{ journal: Journal; resume: Resume }> {
    const { resume, header, torn } = await readState(path, run);
    const journal = new Journal(path);
    journal.fd = openSync(path, 'a');
    // A torn last line gets a newline so the next record starts on a line of its own.
    if (torn) journal.raw('');
    if (header === undefined) journal.write({ run });
    return { journal, resume };
  }

  /** Where a run would resume, without writing anything (dry runs). */
  static async read(path: string, run: string): Promise<Resume> {
    return (await readState(path, run)).resume;
  }

  item(key: string, result: ItemResult, bytes: number): void {
    this.write({ k: key, r: result, b: bytes });
  }

  checkpoint(cursor: string | null, keep: string[] = []): void {
    this.write(keep.length > 0 ? { cp: cursor, keep } : { cp: cursor });
  }

  done(): void {
    this.write({ done: true });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private write(rec: unknown): void {
    this.raw(JSON.stringify(rec));
  }

  private raw(line: string): void {
    if (this.fd === undefined) throw new Error('journal is closed');
    writeSync(this.fd, `${line}\n`);
    fsyncSync(this.fd);
  }
}

/** Whether the file is empty or ends in a newline (reads its last byte only). */
function endsWithNewline(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

async function readState(
  path: string,
  run: string,
): Promise<{ resume: Resume; header: string | undefined; torn: boolean }> {
  const resume: Resume = {
    cursor: null,
    done: new Set(),
    earlier: { copied: 0, skipped: 0, ignored: 0, bytes: 0 },
  };
  let header: string | undefined;
  let lastComplete = true;
  if (!existsSync(path)) return { resume, header, torn: false };
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let rec: {
      run?: string;
      k?: string;
      r?: ItemResult;
      b?: number;
      cp?: string | null;
      keep?: string[];
      done?: boolean;
    };
    try {
      rec = JSON.parse(line) as typeof rec;
      lastComplete = true;
    } catch {
      // A line cut short by a kill: everything before it is intact, nothing after it was written.
      lastComplete = false;
      continue;
    }
    if (rec.run !== undefined) header = rec.run;
    else if (rec.k !== undefined && rec.r !== undefined) {
      resume.done.add(rec.k);
      resume.earlier[rec.r] += 1;
      resume.earlier.bytes += rec.b ?? 0;
    } else if (rec.cp !== undefined) {
      resume.cursor = rec.cp;
      resume.done = new Set(rec.keep ?? []);
    } else if (rec.done) {
      resume.cursor = null;
      resume.done.clear();
      resume.earlier = { copied: 0, skipped: 0, ignored: 0, bytes: 0 };
    }
  }
  if (header !== undefined && header !== run) {
    throw new Error(
      `the state file ${path} belongs to another run (${header}); give another --state or delete it`,
    );
  }
  return { resume, header, torn: !lastComplete || !endsWithNewline(path) };
}
