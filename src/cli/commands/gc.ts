import { systemClock } from '../../core/clock.js';
import { printJson, wholeNumber, type Command } from '../command.js';
import { withComposition } from './with-composition.js';

export const gc: Command = {
  words: ['gc'],
  summary: 'delete original blobs no image references',
  synopsis: '[--grace-seconds N]',
  details:
    '  --grace-seconds N   only blobs older than N seconds (default 3600), so uploads in flight are spared',
  options: { 'grace-seconds': { type: 'string' } },
  async run({ values }) {
    const grace = wholeNumber(values, 'grace-seconds', 3600)!;
    const { collectGarbage } = await import('../../services/gc.js');
    await withComposition(async (c) => {
      const result = await collectGarbage(
        { store: c.store, blobs: c.blobs, clock: systemClock },
        grace * 1000,
      );
      printJson(result, true);
    });
  },
};
