/**
 * A loopback port that refuses connections for the whole test run. A port bound and closed again is
 * not enough: another test file running at the same time may be handed it by `listen(0)` a moment
 * later (the transformation suite once got a 404 from such a server where it expected a refusal).
 * So the port is picked below the kernel's ephemeral range, which `listen(0)` and outgoing
 * connections never use, and checked to be free.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The lowest ephemeral port (ip_local_port_range), 32768 where it cannot be read. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 32768;
  } catch {
    return 32768;
  }
}

const canListen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

export async function refusingPort(): Promise<number> {
  const high = ephemeralLow();
  const low = Math.max(1025, high - 12_000);
  for (let i = 0; i < 50; i++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port below the ephemeral range (${low}–${high - 1})`);
}
