/**
 * A seeded PRNG, so that generated inputs are the same on every run (the fuzz suite's requests, the
 * benchmark's photos). mulberry32, written out because it is eight lines and no dependency of the
 * project ships a seeded generator.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
