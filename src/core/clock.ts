/** A clock that tests can replace (Miniflare's testClock). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
