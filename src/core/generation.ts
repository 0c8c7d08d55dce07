/**
 * A process-wide change counter. Services bump it after every change that can alter what a delivery
 * URL resolves to (image edit or delete, variant edit or delete, account settings); memoised
 * resolutions remember the value they were made under and are discarded when it moves.
 *
 * Changes made elsewhere (another process on the same SQLite file, another node on the same
 * PostgreSQL database) reach it through two hooks, so the memo and its callers never change:
 * - `watch(probe, { windowMs })`: a synchronous check (SQLite's `PRAGMA data_version`) run by a
 *   read when the last check is `windowMs` old or more; when it reports a change, the value moves.
 *   Reusing a check for a millisecond is what keeps the probe off the hot path (at 30,000 cached
 *   answers a second, probing on every read cost a tenth of the throughput); the price is paid by
 *   writers instead: a process whose changes other processes memoise (`othersMemoise`) answers a
 *   change only once `windowMs` has passed since it (`visibleElsewhere()`), so every request that
 *   follows the answer finds, in any process, a check made after the change. (A CLI command waits
 *   out the window when it closes its store.)
 * - `suspend()` / `resume()`: while the source of outside changes cannot vouch for the memo (the
 *   PostgreSQL listening connection is down), every read returns a value never seen before, so nothing
 *   memoised is ever found again and every request reads the database. `resume()` moves the value
 *   once more, so the memo starts empty.
 */
export interface WatchOptions {
  /** How long one check of the probe is reused, in ms (0: every read checks). */
  windowMs?: number;
  /** Other processes memoise what this one changes: `visibleElsewhere()` waits out their window. */
  othersMemoise?: boolean;
  /** Monotonic milliseconds (tests move it); default `performance.now()`. */
  now?: () => number;
}

export class Generation {
  private current = 0;
  private suspended = false;
  private probe: (() => boolean) | undefined;
  private windowMs = 0;
  private othersMemoise = false;
  private now: () => number = () => performance.now();
  /** When the probe was last run (-Infinity: never). */
  private checkedAt = Number.NEGATIVE_INFINITY;
  /** When this process last changed something (-Infinity: never). */
  private bumpedAt = Number.NEGATIVE_INFINITY;

  get value(): number {
    if (this.probe) {
      // With a window of 0 every read checks.
      const t = this.now();
      if (t - this.checkedAt >= this.windowMs) {
        this.checkedAt = t;
        if (this.probe()) this.current++;
      }
    }
    if (this.suspended) return ++this.current;
    return this.current;
  }

  bump(): void {
    this.current++;
    if (this.othersMemoise) this.bumpedAt = this.now();
  }

  /** Runs `changedElsewhere` on reads (at most once per `windowMs`); `true` means another writer committed since the last call. */
  watch(changedElsewhere: () => boolean, opts: WatchOptions = {}): void {
    this.probe = changedElsewhere;
    this.windowMs = opts.windowMs ?? 0;
    this.othersMemoise = opts.othersMemoise ?? false;
    if (opts.now) this.now = opts.now;
  }

  /**
   * Undefined when every other process already sees this one's last change; otherwise a promise that
   * resolves once it does (a check of their probe made after the change): answer a change after it.
   */
  visibleElsewhere(): Promise<void> | undefined {
    if (!this.othersMemoise) return undefined;
    // Strictly more than the window: a check reused for `windowMs` was made after the change.
    const wait = this.bumpedAt + this.windowMs - this.now();
    if (wait < 0) return undefined;
    return new Promise((resolve) => {
      const again = () => {
        const left = this.bumpedAt + this.windowMs - this.now();
        if (left < 0) resolve();
        // Node's timers may fire up to a millisecond early: look at the clock again.
        else setTimeout(again, Math.ceil(left) + 1);
      };
      again();
    });
  }

  /** Memoisation off: no read returns a value an entry was stored under. */
  suspend(): void {
    this.suspended = true;
  }

  /** Memoisation on again, starting empty. */
  resume(): void {
    this.suspended = false;
    this.current++;
  }

  /** Whether memoised entries can currently be found (false while suspended). */
  get trusted(): boolean {
    return !this.suspended;
  }
}
