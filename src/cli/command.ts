/**
 * What a `pictor` sub-command is: the words that select it, a one-line summary for `pictor help`, its
 * usage and options (node:util parseArgs descriptors), and `run`. One file per command under
 * `commands/`; `commands/index.ts` lists them in the order `pictor help` prints them.
 */
import type { ParseArgsConfig } from 'node:util';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** Positionals after the command's own words. */
  positionals: string[];
}

export interface Command {
  /** The words that select the command, e.g. `['token', 'create']`. */
  words: string[];
  /** One line for `pictor help`. */
  summary: string;
  /** Synopsis after `pictor <words>`, e.g. `--account ID [--read-only]`. */
  synopsis: string;
  /** Longer text for `pictor <command> --help`: one line per option. */
  details?: string;
  options: Options;
  /** Accepts positionals after its words (most commands take none). */
  positionals?: boolean;
  /** Resolves to an exit code (undefined: 0). */
  run(args: ParsedArgs): Promise<number | void>;
}

/** Bad command-line use: printed with the command's usage, exit 2. */
export class UsageError extends Error {}

/** A whole number from a flag, or `fallback` when the flag is absent. */
export function wholeNumber(
  values: ParsedArgs['values'],
  flag: string,
  fallback?: number,
): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < 0)
    throw new UsageError(`--${flag} takes a whole number`);
  return n;
}

/** Prints a JSON result on stdout, pretty (two spaces) unless `compact`. */
export function printJson(value: unknown, compact = false): void {
  process.stdout.write(`${compact ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`);
}
