/**
 * The one mapping of a full disk onto the catalogue, as the API's error handler (`toAppError`) and
 * delivery (`toDeliveryError`) apply it: 5540, 503, Retry-After, never a 500.
 */
import { describe, expect, it } from 'vitest';
import { toDeliveryError } from '../delivery/respond.js';
import { toAppError } from './app.js';

const full = [
  Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
  Object.assign(new Error('EDQUOT: disk quota exceeded'), { code: 'EDQUOT' }),
  Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }),
  Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_SHMSIZE' }),
  new Error('insert failed', { cause: Object.assign(new Error('full'), { code: 'SQLITE_FULL' }) }),
];

describe('a full disk, wherever it surfaces', () => {
  it.each(full.map((e) => [e.message, e]))('API: %s → 503 5540 with Retry-After', (_m, e) => {
    const a = toAppError(e);
    expect([a.status, a.code, a.headers['retry-after']]).toEqual([503, 5540, '5']);
    expect(a.publicMessage).toBe('ERROR 5540: Error received from the storage.');
  });

  it.each(full.map((e) => [e.message, e]))('delivery: %s → 503 5540', (_m, e) => {
    const a = toDeliveryError(e, undefined);
    expect([a.status, a.code, a.headers['retry-after']]).toEqual([503, 5540, '5']);
  });

  it('an unreachable backend is still 5503, a bug still 5500', () => {
    expect(toAppError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })).code).toBe(5503);
    expect(toAppError(new TypeError('undefined is not a function')).code).toBe(5500);
  });
});
