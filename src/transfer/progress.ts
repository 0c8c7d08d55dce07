/**
 * Progress on stderr. On a TTY a live bar (cli-progress) with count, bytes, rate and ETA; otherwise
 * one plain line every few seconds, so logs of a long run stay readable.
 */
import cliProgress from 'cli-progress';

export interface ProgressState {
  done: number;
  total: number | undefined;
  bytes: number;
  failed: number;
}

export interface Progress {
  start(total: number | undefined): void;
  update(state: ProgressState): void;
  stop(state: ProgressState): void;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

export interface ProgressOptions {
  /** What is moving, e.g. `migrate`. */
  label: string;
  stream?: NodeJS.WriteStream;
  /** Plain lines: one every this many ms (default 5000). */
  intervalMs?: number;
  /** Force the TTY bar or plain lines (default: whether the stream is a TTY). */
  tty?: boolean;
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? stream.isTTY === true;
  return tty
    ? new BarProgress(opts.label, stream)
    : new LineProgress(opts.label, stream, opts.intervalMs ?? 5000);
}

class BarProgress implements Progress {
  private bar: cliProgress.SingleBar;
  private started = Date.now();

  constructor(label: string, stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} {bar} {value}/{total} images | {bytes} | {rate} img/s | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
        noTTYOutput: false,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  start(total: number | undefined): void {
    this.started = Date.now();
    this.bar.start(total ?? 0, 0, { bytes: formatBytes(0), rate: '0.0' });
  }

  update(s: ProgressState): void {
    const secs = (Date.now() - this.started) / 1000;
    // An unknown total grows with the count, so the bar stays full and the ETA reads 0.
    if (s.total === undefined || s.done > s.total) this.bar.setTotal(s.done);
    this.bar.update(s.done, {
      bytes: formatBytes(s.bytes),
      rate: secs > 0 ? (s.done / secs).toFixed(1) : '0.0',
    });
  }

  stop(s: ProgressState): void {
    this.update(s);
    this.bar.stop();
  }
}

class LineProgress implements Progress {
  private timer: NodeJS.Timeout | undefined;
  private state: ProgressState = { done: 0, total: undefined, bytes: 0, failed: 0 };
  private started = Date.now();

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream,
    private readonly intervalMs: number,
  ) {}

  start(total: number | undefined): void {
    this.started = Date.now();
    this.state = { ...this.state, total };
    this.timer = setInterval(() => this.print(), this.intervalMs);
    this.timer.unref();
  }

  update(s: ProgressState): void {
    this.state = s;
  }

  stop(s: ProgressState): void {
    if (this.timer) clearInterval(this.timer);
    this.state = s;
    this.print();
  }

  private print(): void {
    const s = this.state;
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? s.done / secs : 0;
    const of = s.total !== undefined ? `/${s.total}` : '';
    const eta =
      s.total !== undefined && rate > 0 ? `, ETA ${formatSeconds(Math.max(0, s.total - s.done) / rate)}` : '';
    const failed = s.failed > 0 ? `, ${s.failed} failed` : '';
    this.stream.write(
      `pictor ${this.label}: ${s.done}${of} images, ${formatBytes(s.bytes)}, ${rate.toFixed(1)} images/s${eta}${failed}\n`,
    );
  }
}
