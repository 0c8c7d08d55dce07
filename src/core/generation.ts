/**
 * A process-wide change counter. Services bump it after every change that can alter what a delivery
 * URL resolves to (image edit or delete, variant edit or delete, account settings); memoised
 * resolutions remember the value they were made under and are discarded when it moves.
 *
 * Changes made elsewhere (another process on the same SQLite file, another node on the same
 * PostgreSQL database) reach it through two hooks, so the memo and its callers never change:
 * - `watch(probe)`: a cheap synchronous check run on every read (SQLite's `PRAGMA data_version`);
 *   when it reports a change, the value moves.
 * - `suspend()` / `resume()`: while the source of outside changes cannot vouch for the memo (the
 *   PostgreSQL listening connection is down), every read returns a value never seen before, so nothing
 *   memoised is ever found again and every request reads the database. `resume()` moves the value
 *   once more, so the memo starts empty.
 */
export class Generation {
  private current = 0;
  private suspended = false;
  private probe: (() => boolean) | undefined;

  get value(): number {
    if (this.probe?.()) this.current++;
    if (this.suspended) return ++this.current;
    return this.current;
  }

  bump(): void {
    this.current++;
  }

  /** Runs `changedElsewhere` on every read; `true` means another writer committed since the last call. */
  watch(changedElsewhere: () => boolean): void {
    this.probe = changedElsewhere;
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
