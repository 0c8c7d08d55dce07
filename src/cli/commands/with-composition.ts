/** Runs a command body against the configured stores and services, closing them afterwards. */
import { loadConfig } from '../../config/index.js';
import type { Composition } from '../../server/compose.js';

export async function withComposition<T>(fn: (c: Composition) => Promise<T>): Promise<T> {
  // Loaded on use, so `pictor --version` and `pictor help` start without sharp or the stores.
  const { compose } = await import('../../server/compose.js');
  const c = await compose(loadConfig());
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}
