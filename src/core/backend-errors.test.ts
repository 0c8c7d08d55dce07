import { describe, expect, it } from 'vitest';
import { backendErrorName, isStorageFull } from './backend-errors.js';

const err = (code: string, message = 'x', cause?: unknown) =>
  Object.assign(new Error(message, cause === undefined ? {} : { cause }), { code });

describe('a full disk is the storage error (5540), wherever it surfaces', () => {
  it.each([
    ['ENOSPC', 'ENOSPC: no space left on device, write'],
    ['EDQUOT', 'EDQUOT: disk quota exceeded'],
    ['SQLITE_FULL', 'database or disk is full'],
    ['SQLITE_IOERR', 'disk I/O error'],
    ['SQLITE_IOERR_SHMSIZE', 'disk I/O error'],
    ['SQLITE_IOERR_WRITE', 'disk I/O error'],
    ['53100', 'could not extend file'],
  ])('%s → storageError', (code, message) => {
    expect(isStorageFull(err(code, message))).toBe(true);
    expect(backendErrorName(err(code, message))).toBe('storageError');
  });

  it('found in the cause chain and by SQLite’s message alone', () => {
    expect(backendErrorName(new Error('put failed', { cause: err('ENOSPC') }))).toBe('storageError');
    expect(backendErrorName(new Error('database or disk is full'))).toBe('storageError');
  });

  it('an unreachable backend stays 5503, anything else is no backend error', () => {
    expect(backendErrorName(err('ECONNREFUSED'))).toBe('unavailable');
    expect(backendErrorName(err('EIO'))).toBe('unavailable');
    expect(backendErrorName(err('SQLITE_CONSTRAINT_UNIQUE'))).toBeUndefined();
    expect(backendErrorName(new TypeError('x is undefined'))).toBeUndefined();
    expect(backendErrorName(null)).toBeUndefined();
  });
});
