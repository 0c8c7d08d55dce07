/**
 * Two servers on one SQLite file (as two processes of a node are, or a CLI beside a server): a change
 * answered by one is never followed by a stale memoised answer from the other, even when the other's
 * last check of `data_version` is less than its reuse window old (core/generation.ts). The window is
 * 200 ms here (PICTOR_CHANGE_WINDOW_MS; 1 by default), so that the request sent right after each
 * change's answer lands within it: without the writer's wait (app.ts, onSend) the second server would
 * reuse its check from before the change nearly every round.
 *
 * SQLite only (the PostgreSQL path is two-nodes.test.ts, through LISTEN/NOTIFY).
 */
import { Agent, request } from 'node:http';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { type RunningServer, startServer as startPictor } from '../../src/server/main.js';
import {
  accountHashOf,
  api,
  createVariant,
  startDeliveryServer,
  upload,
  type DeliveryServer,
} from '../helpers/delivery.js';
import { makeImage } from '../helpers/images.js';
import { serverEnv, startBackend } from '../helpers/server.js';

const WINDOW = { PICTOR_CHANGE_WINDOW_MS: '200' };
let a: DeliveryServer;
let b: RunningServer;

beforeAll(async () => {
  a = await startDeliveryServer(
    { PICTOR_PROCESSES: '1', ...WINDOW },
    { backend: await startBackend('embedded') },
  );
  b = await startPictor(loadConfig({ ...serverEnv(a.dataDir), PICTOR_PROCESSES: '1', ...WINDOW }), {
    quiet: true,
  });
}, 60_000);
afterAll(async () => {
  await b?.close();
  await a?.close();
}, 60_000);

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function get(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(Buffer.concat(chunks))
          : reject(new Error(`${url}: ${res.statusCode}`)),
      );
    })
      .on('error', reject)
      .end();
  });
}

describe('two servers on one SQLite file', () => {
  it('the request right after a change is answered, on the other server, never gets the memoised resolution', async () => {
    const image = await upload(a, await makeImage('png', 400, 300), { filename: 'a.png' });
    await createVariant(a, 'shared', { fit: 'scale-down', width: 200 });
    const url = `${b.url}/cdn-cgi/imagedelivery/${accountHashOf(image)}/${image.id}/shared`;
    const widthOf = async (body: Buffer) => (await sharp(body).metadata()).width;
    expect(await widthOf(await get(url))).toBe(200);
    // The other server's check stays fresh: a request every few milliseconds.
    let hammering = true;
    const hammer = (async () => {
      const other = new Agent({ keepAlive: true, maxSockets: 1 });
      while (hammering) {
        await new Promise<void>((resolve, reject) =>
          request(url, { agent: other }, (res) => res.resume().on('end', resolve))
            .on('error', reject)
            .end(),
        );
      }
      other.destroy();
    })();
    try {
      // Widths a resize of the 400 px source can give and that differ each round.
      for (let round = 1; round <= 8; round++) {
        const width = 200 - round * 10;
        await api(a, 'PATCH', '/v1/variants/shared', { options: { fit: 'scale-down', width } });
        expect(await widthOf(await get(url)), `round ${round}: the first request after the answer`).toBe(
          width,
        );
      }
    } finally {
      hammering = false;
      await hammer;
      agent.destroy();
    }
  }, 60_000);
});
