/**
 * A process-wide change counter. Services bump it after every change that can alter what a delivery
 * URL resolves to (image edit or delete, variant edit or delete, account settings); memoised
 * resolutions remember the value they were made under and are discarded when it moves.
 */
export class Generation {
  private current = 0;

  get value(): number {
    return this.current;
  }

  bump(): void {
    this.current++;
  }
}
