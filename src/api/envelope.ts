/**
 * The Cloudflare response envelope, and the one place errors become wire bodies. Internal causes are
 * logged by the caller and never serialised.
 */
import type { AppError } from '../core/errors.js';

export interface Envelope<T> {
  result: T;
  success: boolean;
  errors: Array<{ code: number; message: string; error_chain?: Array<{ code: number; message: string }> }>;
  messages: unknown[];
}

/**
 * A success body.
 * @example ok({ id: 'x' }) // { result: { id: 'x' }, success: true, errors: [], messages: [] }
 */
export function ok<T>(result: T): Envelope<T> {
  return { result, success: true, errors: [], messages: [] };
}

/** A failure body for an AppError. */
export function failure(err: AppError): Envelope<null> {
  const entry: Envelope<null>['errors'][number] = { code: err.code, message: err.publicMessage };
  if (err.chain) entry.error_chain = err.chain;
  return { result: null, success: false, errors: [entry], messages: [] };
}
