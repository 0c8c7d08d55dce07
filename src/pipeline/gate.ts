/**
 * A fixed number of slots for image work and a bounded queue (imgproxy's workers semaphore). When the
 * queue is full, `run` rejects at once with GateFullError instead of piling work up in memory.
 * Hand-written: the libraries that exist (p-limit, p-queue) queue without bound.
 */
export class GateFullError extends Error {
  constructor() {
    super('image work queue is full');
  }
}

export interface GateStats {
  running: number;
  queued: number;
  slots: number;
  queueLimit: number;
}

export class Gate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly slots: number,
    readonly queueLimit: number,
  ) {
    if (!Number.isInteger(slots) || slots < 1)
      throw new Error(`Gate: slots must be a positive integer, got ${slots}`);
    if (!Number.isInteger(queueLimit) || queueLimit < 0)
      throw new Error(`Gate: queueLimit must be ≥ 0, got ${queueLimit}`);
  }

  /**
   * Runs `job` in a slot, waiting in the queue if every slot is busy.
   * @example await gate.run(() => sharp(input).resize(100).toBuffer());
   */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.slots) {
      if (this.waiting.length >= this.queueLimit) throw new GateFullError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  stats(): GateStats {
    return {
      running: this.running,
      queued: this.waiting.length,
      slots: this.slots,
      queueLimit: this.queueLimit,
    };
  }
}
