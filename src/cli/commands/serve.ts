import type { Command } from '../command.js';

export const serve: Command = {
  words: ['serve'],
  summary: 'serve the API and delivery (the default command)',
  synopsis: '',
  details:
    'Every setting comes from the environment: see docs/config.md (PORT, HOST, PICTOR_DATA_DIR, DATABASE_URL, S3_*, ...).',
  options: {},
  async run() {
    // Loaded on use, so `pictor --version` and `pictor help` start without sharp or the stores.
    const { serveForever } = await import('../../server/main.js');
    await serveForever();
  },
};
