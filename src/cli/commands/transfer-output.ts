/** What migrate, import and export share on the command line: flags, progress, the printed report. */
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from '../command.js';
import type { TransferReport } from '../../transfer/engine.js';
import { Http } from '../../transfer/http.js';
import { createProgress, formatBytes, type Progress } from '../../transfer/progress.js';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** The flags every transfer command takes. */
export const transferOptions = {
  concurrency: { type: 'string' },
  retries: { type: 'string' },
  state: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  'progress-interval': { type: 'string' },
} satisfies Options;

export const transferDetails = [
  '  --concurrency N          images at once (default 4)',
  '  --retries N              attempts after a 429, 5xx or network failure, with backoff honouring Retry-After (default 5)',
  '  --state FILE             state file for resuming an interrupted run (default: beside the run, in the working directory)',
  '  --dry-run                say what would be copied, change nothing',
  '  --json                   print the report as JSON',
  '  --progress-interval S    seconds between progress lines when stderr is not a terminal (default 5)',
].join('\n');

/** Bad command-line use: the dispatcher prints the command's usage and exits 2. */
export class FlagError extends UsageError {}

export function str(values: Values, name: string, required = false): string | undefined {
  const v = values[name];
  if (v === undefined || v === '') {
    if (required) throw new FlagError(`--${name} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new FlagError(`--${name} takes a value`);
  return v;
}

export function num(values: Values, name: string, fallback: number, min = 0): number {
  const raw = str(values, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new FlagError(`--${name} takes a number of at least ${min}`);
  return n;
}

/** A base URL ending in /client/v4 (http or https). */
export function baseUrl(values: Values, name: string): string {
  const v = str(values, name, true)!;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new FlagError(`--${name} must be a URL such as http://127.0.0.1:8787/client/v4`);
  }
  if (!/^https?:$/.test(u.protocol) || !/\/client\/v4\/?$/.test(u.pathname)) {
    throw new FlagError(`--${name} must be an http(s) URL ending in /client/v4, not ${v}`);
  }
  return v.replace(/\/+$/, '');
}

export function http(values: Values): Http {
  return new Http({ retries: Math.floor(num(values, 'retries', 5)) });
}

export function concurrency(values: Values): number {
  return Math.floor(num(values, 'concurrency', 4, 1));
}

export function progress(values: Values, label: string): Progress {
  return createProgress({ label, intervalMs: num(values, 'progress-interval', 5, 0.05) * 1000 });
}

/** Prints a report: JSON with --json, otherwise a few readable lines. */
export function printReport(
  label: string,
  report: TransferReport & {
    notPreserved?: string[];
    settings?: string[];
    verify?: { ok: boolean; checked: number; differences: Array<{ key: string; reason: string }> };
  },
  json: boolean,
): void {
  const withRss = { ...report, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
  if (json) {
    process.stdout.write(`${JSON.stringify(withRss, null, 2)}\n`);
    return;
  }
  const out: string[] = [];
  const verb = report.dryRun ? 'would copy' : 'copied';
  out.push(
    `pictor ${label}: ${verb} ${report.copied} (${formatBytes(report.bytes)}), skipped ${report.skipped} already present, ` +
      `ignored ${report.ignored.length}, failed ${report.failed.length + report.failedNotListed}, in ${report.seconds.toFixed(1)} s` +
      (report.resumed
        ? ` (resumed: ${report.resumed.copied} copied and ${report.resumed.skipped} skipped before)`
        : ''),
  );
  for (const s of report.settings ?? []) out.push(`  settings: ${report.dryRun ? 'would ' : ''}${s}`);
  for (const i of report.ignored) out.push(`  ignored ${i.key}: ${i.reason}`);
  for (const f of report.failed) out.push(`  failed ${f.key}: ${f.reason}`);
  if (report.failedNotListed > 0) out.push(`  … and ${report.failedNotListed} more failures`);
  if (report.notPreserved && report.notPreserved.length > 0) {
    out.push('  not preserved on the target:');
    for (const n of report.notPreserved) out.push(`    - ${n}`);
  }
  if (report.verify) {
    out.push(
      `  verify: ${report.verify.ok ? 'ok' : 'DIFFERENCES'} (${report.verify.checked} images compared)`,
    );
    for (const d of report.verify.differences) out.push(`    ${d.key}: ${d.reason}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
