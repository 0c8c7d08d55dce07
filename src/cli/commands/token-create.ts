import type { Permission } from '../../core/types.js';
import { printJson, UsageError, type Command } from '../command.js';
import { withComposition } from './with-composition.js';

export const tokenCreate: Command = {
  words: ['token', 'create'],
  summary: 'issue an API token for an account',
  synopsis: '--account ID [--read-only]',
  details: [
    '  --account ID   the account the token acts for (required)',
    '  --read-only    Images Read only (default: Read + Write)',
  ].join('\n'),
  options: { account: { type: 'string' }, 'read-only': { type: 'boolean', default: false } },
  async run({ values }) {
    const accountId = values.account;
    if (typeof accountId !== 'string' || accountId === '') throw new UsageError('--account ID is required');
    await withComposition(async (c) => {
      if (!(await c.api.accounts.get(accountId)))
        throw new UsageError(`--account ${accountId}: no such account`);
      const permissions: Permission[] = values['read-only'] === true ? ['read'] : ['read', 'write'];
      const { token } = await c.api.accounts.issueToken({ accountIds: [accountId], permissions });
      printJson({ token, permissions });
    });
  },
};
