/**
 * Keeps one of Node's `process.nextTick` records alive for the life of the process, so that V8 keeps
 * the hidden class (map) those records share.
 *
 * Why: Node builds each record as `{ [async_id_symbol]: …, [trigger_async_id_symbol]: …, callback,
 * args }` (lib/internal/process/task_queues.js), and a cached delivery schedules several (stream
 * ends, socket resumes, write callbacks). Records live for one tick, so between requests none is
 * alive, and V8 holds the maps of such a literal weakly: a full garbage collection then frees them,
 * the next record makes new ones, and the literal's inline caches see one more map each time. After a
 * few full collections they turn megamorphic, and every record is then built by V8's runtime
 * (`Runtime_DefineKeyedOwnPropertyInLiteral`, map transitions looked up and migrated per property).
 * Measured with `perf` under wrk (docs/operations.md, "Node flags"): 9.6% of a Pictor main thread's
 * samples in one run, about 2 µs per cached delivery; 7–8% in each of two runs with a full collection
 * forced every 2 s, and none in two such runs with a record kept. A bare node:http server showed the
 * same, 3% of its thread with forced full collections, none while it held one record.
 *
 * Full collections come with uploads, API traffic and time in a long-running server; a short
 * benchmark of cached deliveries may see none, which is why the state came and went between runs.
 * No flag or API keeps the map alive, and Node exposes no record except to an async hook: one is
 * enabled for the single `nextTick` below and disabled at once (a hook left enabled would slow every
 * async operation), and the record it sees is kept.
 */
import { createHook } from 'node:async_hooks';

let kept: object | undefined;

/** The record kept (undefined before `keepTickShape` ran): for the test. */
export const keptTickRecord = (): object | undefined => kept;

/** Captures and keeps one `nextTick` record; idempotent. */
export function keepTickShape(): void {
  if (kept) return;
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type === 'TickObject' && !kept) kept = resource;
    },
  });
  hook.enable();
  try {
    process.nextTick(() => {});
  } finally {
    hook.disable();
  }
}
