/** Every `pictor` command, in the order `pictor help` lists them. Add a command: one file, one line here. */
import type { Command } from '../command.js';
import { serve } from './serve.js';
import { accountCreate } from './account-create.js';
import { tokenCreate } from './token-create.js';
import { gc } from './gc.js';
import { migrate } from './migrate.js';
import { importCommand } from './import.js';
import { exportCommand } from './export.js';
import { accountList, tokenList, tokenRevoke } from './credentials.js';

export const commands: Command[] = [
  serve,
  accountCreate,
  accountList,
  tokenCreate,
  tokenList,
  tokenRevoke,
  gc,
  migrate,
  importCommand,
  exportCommand,
] as Command[];
