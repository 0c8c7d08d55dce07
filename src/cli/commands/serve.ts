import type { Command } from '../command.js';
import { loadConfig } from '../../config/index.js';
import { prepareDataDir } from '../../server/startup.js';

export const serve: Command = {
  words: ['serve'],
  summary: 'serve the API and delivery (the default command)',
  synopsis: '',
  details:
    'Every setting comes from the environment: see docs/config.md (PORT, HOST, PICTOR_DATA_DIR, DATABASE_URL, S3_*, ...).',
  options: {},
  async run() {
    // A bad setting or an impossible PICTOR_DATA_DIR fails here, before sharp, the SQL drivers and
    // the AWS SDK are loaded (seconds on a busy machine): the error line comes at once.
    prepareDataDir(loadConfig().dataDir);
    // Loaded on use, so `pictor --version` and `pictor help` start without sharp or the stores.
    const { serveForever } = await import('../../server/main.js');
    await serveForever();
  },
};
