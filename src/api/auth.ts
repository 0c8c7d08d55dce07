/**
 * onRequest hook for `/client/v4/accounts/{account_id}/...`: checks the account id's shape, reads the
 * credential, and requires Images Read for GET/HEAD and Images Write for everything else.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';
import { allows, readCredential } from '../security/credentials.js';
import type { ApiContext } from './context.js';

export const ACCOUNT_ID_RE = /^[0-9a-f]{32}$/;

export function noRoute(): AppError {
  return new AppError('noRoute', { chain: [{ code: 7000, message: 'No route for that URI' }] });
}

export function authHook(ctx: ApiContext) {
  return async function authenticate(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const accountId = (req.params as { account_id?: string }).account_id ?? '';
    if (!ACCOUNT_ID_RE.test(accountId)) throw noRoute();
    const presented = readCredential(req.headers);
    const credential =
      presented.kind === 'token'
        ? await ctx.accounts.findToken(presented.token)
        : await ctx.accounts.findGlobalKey(presented.email, presented.key);
    // Batch tokens work only on the batch API; expired credentials work nowhere.
    if (!credential || credential.kind === 'batch' || ctx.accounts.expired(credential)) {
      throw presented.kind === 'token' ? new AppError('invalidToken') : new AppError('unknownGlobalKey');
    }
    // GET/HEAD need Images Read, unless the route asks for more (issuing a batch token needs Write).
    const routePermission = (req.routeOptions.config as { permission?: 'read' | 'write' } | undefined)
      ?.permission;
    const needed = routePermission ?? (req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write');
    if (!allows(credential, accountId, needed)) throw new AppError('authenticationError');
    const account = await ctx.accounts.get(accountId);
    if (!account) throw noRoute();
    req.account = account;
  };
}
