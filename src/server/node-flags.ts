/**
 * The V8 flags every server process runs with: a young generation of 16 MiB per semi-space at the
 * start, growing to 32 MiB, instead of V8's default, which starts at 1 MiB.
 *
 * Why: under a cached-delivery load (about 11 KB of short-lived objects per request), V8's small
 * default young generation let some processes settle in a state where each scavenge copied many live
 * objects and ordinary property stores took V8's slow path: the same build, started several times,
 * used 15 to 31 µs of user CPU per request, and served 18,000 to 24,000 requests/s. With these flags
 * each of 4 starts used 13 to 15 µs and served 24,500 to 25,600 (docs/operations.md, "Node flags").
 *
 * V8 reads them only when a process starts: `v8.setFlagsFromString` later does not resize the heap,
 * and NODE_OPTIONS refuses `--min-semi-space-size`. So they are on each command line that starts a
 * server: the `pictor` bin's shebang (src/cli/main.ts), package.json's start script, the Dockerfile,
 * and every cluster worker (server/cluster.ts). A test keeps those in step with this list.
 */
export const HEAP_FLAGS: readonly string[] = ['--min-semi-space-size=16', '--max-semi-space-size=32'];

/** A flag's name, with V8's `_` spelling read as `-`. */
const nameOf = (arg: string): string => arg.split('=', 1)[0]!.replaceAll('_', '-');

/**
 * `argv` with every heap flag it does not set already (a flag the operator gave wins).
 * @example withHeapFlags(['--import', 'tsx']) // ['--import', 'tsx', '--min-semi-space-size=16', '--max-semi-space-size=32']
 */
export function withHeapFlags(argv: readonly string[]): string[] {
  const given = new Set(argv.map(nameOf));
  return [...argv, ...HEAP_FLAGS.filter((f) => !given.has(nameOf(f)))];
}
