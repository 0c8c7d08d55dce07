/** Files on disk, for "nothing was stored" assertions against the embedded blob store. */
import { type Dirent, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Regular files below `dir`, recursively (0 when it does not exist). */
export function countFiles(dir: string): number {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let n = 0;
  for (const e of entries) n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  return n;
}
