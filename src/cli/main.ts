#!/usr/bin/env -S node --min-semi-space-size=16 --max-semi-space-size=32
/**
 * The `pictor` command: a small dispatcher over `commands/` (one file per command). `pictor` alone
 * serves; `pictor --version`, `pictor help [command]`, `pictor <command> --help`; an unknown command or
 * option prints the usage on stderr and exits 2. Argument parsing is node:util parseArgs: a handful of
 * flags per command needs no framework.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/index.js';
import { UsageError, type Command } from './command.js';
import { commands } from './commands/index.js';

/** The version in the package.json beside `src/` or `dist/` (both two levels up from this file). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

const line = (c: Command) => `pictor ${[...c.words, c.synopsis].filter(Boolean).join(' ')}`;

export function usage(): string {
  const width = Math.max(...commands.map((c) => line(c).length));
  return [
    'usage: pictor [command] [options]',
    '',
    ...commands.map((c) => `  ${line(c).padEnd(width)}   ${c.summary}`),
    '',
    '  pictor help [command]   this text, or one command in detail (also: pictor <command> --help)',
    '  pictor --version        the installed version',
    '',
    'Settings come from the environment; see docs/config.md.',
    '',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [`usage: ${line(c)}`, '', `  ${c.summary}`, ...(c.details ? ['', c.details] : []), ''].join('\n');
}

/** The command whose words start `args` (longest match), and the arguments after them. */
function find(args: string[]): { command: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  for (const c of commands) {
    if (c.words.every((w, i) => args[i] === w) && (!best || c.words.length > best.words.length)) best = c;
  }
  return best ? { command: best, rest: args.slice(best.words.length) } : undefined;
}

/** Runs one invocation; resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === '--version' || first === '-v' || first === 'version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (first === 'help' || first === '--help' || first === '-h') {
    const topic = argv.slice(1);
    if (topic.length === 0) {
      process.stdout.write(usage());
      return 0;
    }
    const found = find(topic);
    if (!found || found.rest.length > 0) {
      process.stderr.write(`pictor: no command "${topic.join(' ')}"\n\n${usage()}`);
      return 2;
    }
    process.stdout.write(commandHelp(found.command));
    return 0;
  }
  const found = find(argv.length === 0 || argv[0]!.startsWith('-') ? ['serve', ...argv] : argv);
  if (!found) {
    const words = argv.filter((a) => !a.startsWith('-')).join(' ');
    process.stderr.write(`pictor: unknown command "${words}"\n\n${usage()}`);
    return 2;
  }
  const { command, rest } = found;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: command.positionals === true,
      strict: true,
      options: { ...command.options, help: { type: 'boolean', short: 'h', default: false } },
    });
  } catch (e) {
    process.stderr.write(`pictor: ${e instanceof Error ? e.message : String(e)}\n\n${commandHelp(command)}`);
    return 2;
  }
  if (parsed.values.help === true) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  try {
    return (await command.run({ values: parsed.values, positionals: parsed.positionals })) ?? 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof UsageError) {
      process.stderr.write(`pictor: ${message}\n\n${commandHelp(command)}`);
      return 2;
    }
    process.stderr.write(`pictor: ${message}\n`);
    // Start-up failures carry their own exit code (see server/startup.ts); a bad setting is 2.
    const code = (e as { exitCode?: unknown }).exitCode;
    return typeof code === 'number' ? code : e instanceof ConfigError ? 2 : 1;
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`pictor: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
