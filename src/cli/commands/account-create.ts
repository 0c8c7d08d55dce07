import { printJson, wholeNumber, type Command } from '../command.js';
import { withComposition } from './with-composition.js';

export const accountCreate: Command = {
  words: ['account', 'create'],
  summary: 'create an account, print its id, hash and a write token',
  synopsis: '[--allowance N]',
  details: '  --allowance N   images the account may hold (default PICTOR_IMAGE_ALLOWANCE)',
  options: { allowance: { type: 'string' } },
  async run({ values }) {
    const allowance = wholeNumber(values, 'allowance');
    await withComposition(async (c) => {
      const account = await c.api.accounts.create(allowance === undefined ? {} : { allowance });
      const { token } = await c.api.accounts.issueToken({ accountIds: [account.id], permissions: ['read', 'write'] });
      printJson({ accountId: account.id, accountHash: account.hash, token });
    });
  },
};
