import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli';
import type { Io } from '../../src/cli/io';

/** A CLI pointed at a Temporal that is down, or that accepts connections and never answers. */
function capture(): Io & { out: (s: string) => void; lines: { out: string[]; err: string[] } } {
  const lines = { out: [] as string[], err: [] as string[] };
  return {
    lines,
    out: (s: string) => lines.out.push(s),
    err: (s: string) => lines.err.push(s),
    rewrite: () => undefined,
    interactive: false,
  };
}

describe('CLI: Temporal unreachable', () => {
  let silent: net.Server;
  const sockets = new Set<net.Socket>();
  let silentPort = 0;
  let closedPort = 0;
  beforeAll(async () => {
    // Accepts TCP and never speaks HTTP/2: only the connect timeout ends the wait.
    silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as net.AddressInfo).port;
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('a server that never answers: exit 4 after the connect timeout, naming the address', async () => {
    const io = capture();
    const code = await run(
      ['status', 'some-run', '--address', `127.0.0.1:${silentPort}`, '--connect-timeout', '0.5'],
      io,
    );
    expect(code).toBe(4);
    expect(io.lines.err[0]).toMatch(new RegExp(`^error: cannot reach Temporal at 127\\.0\\.0\\.1:${silentPort}: `));
    expect(io.lines.err.join('\n')).toContain('--connect-timeout');
  });

  it('nothing listening: exit 4 and a JSON error with the address', async () => {
    const io = capture();
    const address = `127.0.0.1:${closedPort}`;
    const code = await run(['status', 'some-run', '--address', address, '--connect-timeout', '0.5', '--json'], io);
    expect(code).toBe(4);
    expect(JSON.parse(io.lines.out.join('\n'))).toMatchObject({
      ok: false,
      error: { code: 'TemporalUnreachable', address: `127.0.0.1:${closedPort}` },
    });
  });

  it('a bad --connect-timeout is a usage error', async () => {
    const io = capture();
    expect(await run(['status', 'x', '--address', '127.0.0.1:1', '--connect-timeout', 'soon'], io)).toBe(2);
    expect(io.lines.err[0]).toContain('--connect-timeout');
  });
});
