import { createServer } from 'node:net';
import { freePort } from '../../devtools/temporal-dev-server';
import { CliUsageError } from '../io';

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/**
 * The well-known port when it is free (so bookmarks and the printed commands just work), any free
 * port otherwise. An explicit port must be free; 0 asks for any free port.
 */
export async function choosePort(
  flag: string,
  requested: number | undefined,
  preferred: number,
): Promise<{ port: number; note?: string }> {
  if (requested === 0) return { port: await freePort() };
  if (requested !== undefined) {
    if (!(await isPortFree(requested)))
      throw new CliUsageError(`${flag} ${requested}: the port is in use on 127.0.0.1`);
    return { port: requested };
  }
  if (await isPortFree(preferred)) return { port: preferred };
  const port = await freePort();
  return { port, note: `port ${preferred} is in use, so ${flag.replace(/^--/, '')} is ${port}` };
}
