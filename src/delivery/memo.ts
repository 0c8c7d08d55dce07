/**
 * Memoised URL resolutions (account, image, variant, options, Cache-Control) for public images, so a
 * cached rendition is answered without a database round trip. An entry is valid only under the
 * generation it was made in: every change that could alter a resolution bumps the generation first
 * (see core/generation.ts). Signed images are never memoised: their signature and expiry are checked
 * on every request.
 */
import { LRUCache } from 'lru-cache';

export class ResolutionMemo<T extends object = object> {
  private readonly entries: LRUCache<string, { generation: number; value: T }>;

  constructor(max: number) {
    this.entries = new LRUCache({ max });
  }

  get(path: string, generation: number): T | undefined {
    const e = this.entries.get(path);
    return e && e.generation === generation ? e.value : undefined;
  }

  set(path: string, generation: number, value: T): void {
    this.entries.set(path, { generation, value });
  }
}
