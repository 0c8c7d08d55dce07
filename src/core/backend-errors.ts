/**
 * Recognises errors that mean a backend (PostgreSQL, S3, the disk) is unreachable or failing, as
 * opposed to a bug: such requests answer 503 with a Cloudflare-style 55xx code and `Retry-After`,
 * and the node recovers by itself when the backend returns (pools reconnect on the next query).
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EIO',
  '57P01', // PostgreSQL admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
  '53300', // too_many_connections
]);

const MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
  /socket hang up/i,
  /connect ECONNREFUSED/i,
];

/** Whether an error (or its cause chain) says a backend is down. */
export function isBackendUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    $metadata?: { httpStatusCode?: number };
    name?: string;
  };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && MESSAGES.some((re) => re.test(e.message as string))) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  return isBackendUnavailable(e.cause, depth + 1);
}

/**
 * Codes that mean the disk under a store is full (or the user's quota is used up): ENOSPC and EDQUOT
 * from the file system, SQLITE_FULL from SQLite, and SQLITE_IOERR and its extended forms, which is
 * what SQLite reports when it cannot grow its shared-memory or WAL file on a full disk
 * (SQLITE_IOERR_SHMSIZE, SQLITE_IOERR_WRITE). PostgreSQL's 53100 (disk_full) is the same condition.
 */
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']);

/** Whether an error (or its cause chain) says a store is out of space. */
export function isStorageFull(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (FULL_CODES.has(e.code) || e.code.startsWith('SQLITE_IOERR')))
    return true;
  if (typeof e.message === 'string' && /database or disk is full|no space left on device/i.test(e.message))
    return true;
  return isStorageFull(e.cause, depth + 1);
}

/**
 * The catalogue entry for a backend failure: `storageError` (5540, 503, Retry-After, the code uploads
 * answer) for a full disk, `unavailable` (5503) for a backend that cannot be reached, none for
 * anything else (a bug: 500).
 */
export function backendErrorName(err: unknown): 'storageError' | 'unavailable' | undefined {
  if (isStorageFull(err)) return 'storageError';
  if (isBackendUnavailable(err)) return 'unavailable';
  return undefined;
}
