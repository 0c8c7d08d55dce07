/**
 * Reads API credentials from request headers, with Cloudflare's codes for what is missing or
 * malformed (digest §7.2), and decides whether a credential may perform an operation.
 */
import { AppError } from '../core/errors.js';
import type { ApiCredential, Permission } from '../core/types.js';

export type PresentedCredential =
  | { kind: 'token'; token: string }
  | { kind: 'global'; email: string; key: string };

type HeaderValue = string | string[] | undefined;

const TOKEN_RE = /^[A-Za-z0-9_-]{1,400}$/;
const KEY_RE = /^[A-Za-z0-9_-]{1,400}$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+$/;

function one(v: HeaderValue): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function malformed(code: number, message: string): AppError {
  return new AppError('invalidHeaders', { chain: [{ code, message }] });
}

/**
 * Extracts the credential a request presents.
 * @example readCredential({ authorization: 'Bearer abc' }) // { kind: 'token', token: 'abc' }
 */
export function readCredential(headers: Record<string, HeaderValue>): PresentedCredential {
  const authorization = one(headers.authorization);
  const email = one(headers['x-auth-email']);
  const key = one(headers['x-auth-key']);
  if (authorization !== undefined) {
    const m = /^Bearer (.*)$/i.exec(authorization.trim());
    const token = m?.[1]?.trim();
    if (!token || !TOKEN_RE.test(token)) throw malformed(6111, 'Invalid format for Authorization header');
    return { kind: 'token', token };
  }
  if (email === undefined && key === undefined) throw new AppError('missingCredentials');
  if (key === undefined || key.trim() === '') throw malformed(6103, 'Invalid format for X-Auth-Key header');
  if (email === undefined || !EMAIL_RE.test(email.trim()))
    throw malformed(6102, 'Invalid format for X-Auth-Email header');
  if (!KEY_RE.test(key.trim())) throw malformed(6103, 'Invalid format for X-Auth-Key header');
  return { kind: 'global', email: email.trim(), key: key.trim() };
}

/**
 * Whether a credential may touch an account with a permission (write implies read).
 * @example allows(cred, accountId, 'write')
 */
export function allows(credential: ApiCredential, accountId: string, needed: Permission): boolean {
  if (!credential.accountIds.includes(accountId) && !credential.accountIds.includes('*')) return false;
  if (needed === 'read')
    return credential.permissions.includes('read') || credential.permissions.includes('write');
  return credential.permissions.includes('write');
}
