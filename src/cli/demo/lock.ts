import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliUsageError } from '../io';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is just not ours.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One demo per data directory: two Temporal servers on one SQLite file corrupt each other's
 * state. A lock left by a killed demo is taken over. Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'demo.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new CliUsageError(
          `another demo (pid ${owner}) is using ${dataDir}; stop it (Ctrl-C) or pass --data-dir <another dir>`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot lock ${file}`);
}
