/** A Cloudflare-Images-compatible account as a transfer source: list v2 pages, oldest first. */
import { createHash } from 'node:crypto';
import type { TransferSource } from './engine.js';
import type { ImageJson, ImagesApi } from './images-api.js';

export const PAGE_SIZE = 100;

export function apiSource(api: ImagesApi, perPage = PAGE_SIZE): TransferSource<ImageJson> {
  return {
    key: (image) => image.id,
    total: () => api.count(),
    async *pages(cursor) {
      let token = cursor;
      for (;;) {
        const page = await api.listV2(token, perPage);
        // Drafts (direct uploads not completed) have no bytes to copy.
        yield { cursor: token, items: page.images.filter((i) => !(i as { draft?: boolean }).draft) };
        if (!page.continuation_token || page.images.length === 0) return;
        token = page.continuation_token;
      }
    },
  };
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
