import { printJson, wholeNumber, type Command } from '../command.js';
import { withComposition } from './with-composition.js';

export const accountCreate: Command = {
  words: ['account', 'create'],
  summary: 'create an account, print its id, hash and a write token',
  synopsis: '[--allowance N] [--hash H]',
  details:
    '  --allowance N   images the account may hold (default PICTOR_IMAGE_ALLOWANCE)\n  --hash H        the account hash of delivery URLs (22 characters; Pictor extension, keeps migrated URLs working)',
  options: { allowance: { type: 'string' }, hash: { type: 'string' } },
  async run({ values }) {
    const allowance = wholeNumber(values, 'allowance');
    await withComposition(async (c) => {
      const hash = typeof values.hash === 'string' ? values.hash : undefined;
      const account = await c.api.accounts.create({
        ...(allowance === undefined ? {} : { allowance }),
        ...(hash === undefined ? {} : { hash }),
      });
      const { token } = await c.api.accounts.issueToken({
        accountIds: [account.id],
        permissions: ['read', 'write'],
      });
      printJson({ accountId: account.id, accountHash: account.hash, token });
    });
  },
};
