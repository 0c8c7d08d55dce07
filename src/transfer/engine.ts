/**
 * The transfer engine shared by migrate, import and export: reads a source page by page (never the
 * whole list), runs up to `concurrency` items at once, journals every finished item (see journal.ts)
 * and checkpoints each page once it and all pages before it are finished, reports progress, and
 * returns a report. Items that fail are reported with their reason and tried again by the next run.
 */
import { Journal, type ItemResult, type Resume } from './journal.js';
import type { Progress } from './progress.js';

export interface Page<T> {
  /** The cursor that fetches this page again (null: the first page). */
  cursor: string | null;
  items: T[];
}

export interface TransferSource<T> {
  /** Pages from `cursor` on (null: from the start). */
  pages(cursor: string | null): AsyncIterable<Page<T>>;
  /** The item's name in the journal and the report (an image id, a path). */
  key(item: T): string;
  /** How many items there are, when cheap to know (for the progress bar). */
  total?(): Promise<number | undefined>;
}

export interface Outcome {
  result: ItemResult;
  bytes: number;
  /** Why an item was skipped or ignored (a non-image, a conflict resolved…). */
  note?: string;
}

export interface TransferOptions<T> {
  source: TransferSource<T>;
  /** Does one item (or, in a dry run, says what it would do); throws to fail it. */
  process(item: T, dryRun: boolean): Promise<Outcome>;
  concurrency?: number;
  dryRun?: boolean;
  /** State file path and the run's identity (source → sink); none: no resuming. */
  state?: { path: string; run: string };
  progress?: Progress;
  /** Called for each finished item (the CLI prints dry-run plans and notes). */
  onItem?: (key: string, outcome: Outcome | { result: 'failed'; reason: string }) => void;
}

export interface TransferReport {
  dryRun: boolean;
  copied: number;
  skipped: number;
  ignored: Array<{ key: string; reason: string }>;
  failed: Array<{ key: string; reason: string }>;
  /** Failures beyond the first MAX_LISTED (counted, not listed). */
  failedNotListed: number;
  bytes: number;
  seconds: number;
  /** What earlier, interrupted runs of the same pass had finished. */
  resumed: { copied: number; skipped: number; ignored: number; bytes: number } | null;
}

const MAX_LISTED = 1000;

/** Runs the transfer. */
export async function runTransfer<T>(opts: TransferOptions<T>): Promise<TransferReport> {
  const started = Date.now();
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const dryRun = opts.dryRun ?? false;
  let journal: Journal | undefined;
  let resume: Resume = {
    cursor: null,
    done: new Set(),
    earlier: { copied: 0, skipped: 0, ignored: 0, bytes: 0 },
  };
  if (opts.state) {
    if (dryRun) {
      // A dry run reads the state to say what a resumed run would do, and writes nothing.
      resume = await Journal.read(opts.state.path, opts.state.run);
    } else {
      const opened = await Journal.open(opts.state.path, opts.state.run);
      journal = opened.journal;
      resume = opened.resume;
    }
  }
  const report: TransferReport = {
    dryRun,
    copied: 0,
    skipped: 0,
    ignored: [],
    failed: [],
    failedNotListed: 0,
    bytes: 0,
    seconds: 0,
    resumed:
      resume.earlier.copied + resume.earlier.skipped + resume.earlier.ignored > 0
        ? { ...resume.earlier }
        : null,
  };
  const total = await opts.source.total?.().catch(() => undefined);
  const state = () => ({
    done:
      report.copied +
      report.skipped +
      report.ignored.length +
      report.failed.length +
      report.failedNotListed +
      (report.resumed ? report.resumed.copied + report.resumed.skipped + report.resumed.ignored : 0),
    total,
    bytes: report.bytes,
    failed: report.failed.length + report.failedNotListed,
  });
  opts.progress?.start(total);

  // Pages in flight, oldest first: a page is checkpointed once it and every older one is finished
  // and the next page's cursor is known. Items of younger pages can finish (and be journaled) before
  // an older page does, so the checkpoint repeats the keys the pages after it have finished: a
  // resume from it must not do them again.
  const open: Array<{ cursor: string | null; pending: number; dispatched: boolean; finished: string[] }> = [];
  const settle = () => {
    while (open.length > 0 && open[0]!.dispatched && open[0]!.pending === 0) {
      if (open.length < 2) break;
      open.shift();
      journal?.checkpoint(
        open[0]!.cursor,
        open.flatMap((p) => p.finished),
      );
    }
  };

  let running = 0;
  let wake: (() => void) | undefined;
  const slotFree = () => new Promise<void>((r) => (wake = r));

  const finish = (page: (typeof open)[number]) => {
    page.pending -= 1;
    running -= 1;
    settle();
    opts.progress?.update(state());
    const w = wake;
    wake = undefined;
    w?.();
  };

  const runItem = async (item: T, page: (typeof open)[number]) => {
    const key = opts.source.key(item);
    try {
      const outcome = await opts.process(item, dryRun);
      if (outcome.result === 'copied') report.copied += 1;
      else if (outcome.result === 'skipped') report.skipped += 1;
      else
        report.ignored.length < MAX_LISTED && report.ignored.push({ key, reason: outcome.note ?? 'ignored' });
      report.bytes += outcome.result === 'copied' ? outcome.bytes : 0;
      journal?.item(key, outcome.result, outcome.result === 'copied' ? outcome.bytes : 0);
      page.finished.push(key);
      opts.onItem?.(key, outcome);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      if (report.failed.length < MAX_LISTED) report.failed.push({ key, reason });
      else report.failedNotListed += 1;
      opts.onItem?.(key, { result: 'failed', reason });
    } finally {
      finish(page);
    }
  };

  try {
    for await (const p of opts.source.pages(resume.cursor)) {
      const page = { cursor: p.cursor, pending: 0, dispatched: false, finished: [] as string[] };
      open.push(page);
      settle();
      for (const item of p.items) {
        if (resume.done.has(opts.source.key(item))) continue;
        while (running >= concurrency) await slotFree();
        running += 1;
        page.pending += 1;
        void runItem(item, page);
      }
      page.dispatched = true;
      settle();
    }
    while (running > 0) await slotFree();
    // The pass is over: the next run starts a new one (present images are found and skipped; failed
    // ones are tried again).
    journal?.done();
  } finally {
    // A source failure still waits for the items in flight, so their journal lines are written.
    while (running > 0) await slotFree();
    journal?.close();
    report.seconds = (Date.now() - started) / 1000;
    opts.progress?.stop(state());
  }
  return report;
}
