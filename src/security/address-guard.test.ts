/**
 * Unit tests of the upload-by-URL address guard: `refusal` (range classification and allowlist),
 * `parseAllowlist` and `guardedLookup` with a fake resolver.
 *
 * NO NETWORK TRAFFIC: every address below is only classified by pure functions. The fake resolver
 * answers from a table and fails any name it does not know, so it can never fall through to DNS.
 */
import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  AddressRefusedError,
  guardedLookup,
  parseAllowlist,
  refusal,
  type AddressPolicy,
  type LookupFn,
} from './address-guard.js';

const NONE: AddressPolicy = { allow: [] };

// ---------------------------------------------------------------------------------------------------
// refusal: ranges
// ---------------------------------------------------------------------------------------------------

describe('refusal without an allowlist', () => {
  // [address, a word the message must contain (the range)]
  const refused: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/],
    ['127.1.2.3', /loopback/],
    ['10.0.0.1', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /linkLocal/], // cloud metadata
    ['100.64.0.1', /carrierGradeNat/], // CGNAT
    ['100.127.255.255', /carrierGradeNat/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['255.255.255.255', /broadcast/],
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /unspecified/],
    ['198.18.0.1', /reserved/],
    ['240.0.0.1', /reserved/],
    ['192.0.2.1', /reserved/],
    ['::', /unspecified/],
    ['::1', /loopback/],
    ['fe80::1', /linkLocal/],
    ['fe80::1%eth0', /linkLocal/],
    ['fc00::1', /uniqueLocal/],
    ['fd00:ec2::254', /uniqueLocal/], // AWS IPv6 metadata
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:7f00:1', /loopback/], // the same, as the WHATWG URL parser normalises it
    ['0:0:0:0:0:ffff:7f00:1', /loopback/],
    ['::ffff:10.0.0.1', /private/],
    ['::ffff:169.254.169.254', /linkLocal/],
    ['::ffff:0.0.0.0', /unspecified/],
    ['64:ff9b::a00:1', /rfc6052/], // NAT64 of 10.0.0.1
    ['64:ff9b::7f00:1', /rfc6052/], // NAT64 of 127.0.0.1
    ['2002:a00:1::', /6to4/], // 6to4 of 10.0.0.1
    ['2002:7f00:1::', /6to4/],
    ['2001:0::1', /teredo/],
    ['2001:db8::1', /reserved/],
  ];

  it.each(refused)('refuses %s and names its range', (address, range) => {
    const why = refusal(address, NONE);
    expect(why, `${address} was accepted`).toBeTypeOf('string');
    expect(why).toMatch(range);
    // The message names the address it is about (the mapped forms name the embedded IPv4 address).
    expect(why!.length).toBeGreaterThan(0);
  });

  it('names the address in the message', () => {
    expect(refusal('169.254.169.254', NONE)).toBe('169.254.169.254 is in the linkLocal range');
    expect(refusal('10.0.0.1', NONE)).toContain('10.0.0.1');
    expect(refusal('fd00:ec2::254', NONE)).toContain('fd00:ec2::254');
  });

  // Classified only; never contacted.
  it.each([['8.8.8.8'], ['1.1.1.1'], ['2606:4700::1111'], ['2001:4860:4860::8888']])(
    'accepts public unicast %s',
    (address) => {
      expect(refusal(address, NONE)).toBeUndefined();
    },
  );

  it.each([
    ['172.15.255.255'], // just below 172.16/12
    ['172.32.0.0'], // just above 172.16/12
    ['100.63.255.255'], // just below 100.64/10
    ['100.128.0.0'], // just above 100.64/10
    ['11.0.0.0'],
    ['192.169.0.1'],
    ['169.255.0.1'],
  ])('range boundaries: %s is public', (address) => {
    expect(refusal(address, NONE)).toBeUndefined();
  });

  it('refuses what is not an IP address', () => {
    expect(refusal('example.invalid', NONE)).toMatch(/not an IP address/);
    expect(refusal('', NONE)).toMatch(/not an IP address/);
  });

  // docs/compat.md: "IPv4-mapped/translated ... IPv6 refused, in any literal form the WHATWG URL
  // parser normalises". `new URL('http://[::127.0.0.1]/').hostname` is `[::7f00:1]`: the deprecated
  // IPv4-compatible form (::/96, inside IETF-reserved ::/8, not global unicast 2000::/3).
  it('refuses the IPv4-compatible form ::7f00:1 (WHATWG normalisation of [::127.0.0.1])', () => {
    expect(new URL('http://[::127.0.0.1]/').hostname).toBe('[::7f00:1]');
    expect(refusal('::7f00:1', NONE), '::7f00:1 (IPv4-compatible 127.0.0.1) was accepted').toBeTypeOf(
      'string',
    );
    expect(refusal('::a00:1', NONE), '::a00:1 (IPv4-compatible 10.0.0.1) was accepted').toBeTypeOf('string');
  });
});

// ---------------------------------------------------------------------------------------------------
// refusal: allowlist
// ---------------------------------------------------------------------------------------------------

describe('refusal with an allowlist', () => {
  it('127.0.0.1/32 admits exactly 127.0.0.1', () => {
    const policy = { allow: parseAllowlist(['127.0.0.1/32']) };
    expect(refusal('127.0.0.1', policy)).toBeUndefined();
    expect(refusal('127.0.0.2', policy)).toMatch(/127\.0\.0\.2 is in the loopback range/);
    expect(refusal('127.0.0.0', policy)).toMatch(/loopback/);
    expect(refusal('10.0.0.1', policy)).toMatch(/private/);
    expect(refusal('::1', policy)).toMatch(/loopback/);
  });

  it('a bare address is a /32 (or /128)', () => {
    const v4 = { allow: parseAllowlist(['127.0.0.1']) };
    expect(refusal('127.0.0.1', v4)).toBeUndefined();
    expect(refusal('127.0.0.2', v4)).toMatch(/loopback/);
    const v6 = { allow: parseAllowlist(['::1']) };
    expect(refusal('::1', v6)).toBeUndefined();
    expect(refusal('fe80::1', v6)).toMatch(/linkLocal/);
    expect(refusal('127.0.0.1', v6)).toMatch(/loopback/);
  });

  it('10.1.0.0/16 admits its range and nothing next to it', () => {
    const policy = { allow: parseAllowlist(['10.1.0.0/16']) };
    expect(refusal('10.1.0.0', policy)).toBeUndefined();
    expect(refusal('10.1.255.255', policy)).toBeUndefined();
    expect(refusal('10.0.255.255', policy)).toMatch(/private/);
    expect(refusal('10.2.0.0', policy)).toMatch(/private/);
    expect(refusal('169.254.169.254', policy)).toMatch(/linkLocal/);
  });

  it('127.0.0.0/8 admits all of loopback v4 but not ::1', () => {
    const policy = { allow: parseAllowlist(['127.0.0.0/8']) };
    expect(refusal('127.0.0.1', policy)).toBeUndefined();
    expect(refusal('127.255.255.254', policy)).toBeUndefined();
    expect(refusal('::1', policy)).toMatch(/loopback/);
    expect(refusal('0.0.0.0', policy)).toMatch(/unspecified/);
  });

  it('::1/128 admits ::1 and not 127.0.0.1', () => {
    const policy = { allow: parseAllowlist(['::1/128']) };
    expect(refusal('::1', policy)).toBeUndefined();
    expect(refusal('127.0.0.1', policy)).toMatch(/loopback/);
    expect(refusal('::ffff:127.0.0.1', policy)).toMatch(/loopback/);
  });

  it('an IPv4 entry admits the IPv4-mapped form of its addresses (::ffff:127.0.0.1 by 127.0.0.1/32)', () => {
    const policy = { allow: parseAllowlist(['127.0.0.1/32']) };
    expect(refusal('::ffff:127.0.0.1', policy)).toBeUndefined();
    expect(refusal('::ffff:7f00:1', policy)).toBeUndefined();
  });

  it('the mapped form of an address outside the IPv4 entry stays refused', () => {
    const policy = { allow: parseAllowlist(['127.0.0.1/32']) };
    expect(refusal('::ffff:127.0.0.2', policy)).toMatch(/127\.0\.0\.2 is in the loopback range/);
    expect(refusal('::ffff:10.0.0.1', policy)).toMatch(/private/);
  });

  it('the allowlist does not admit NAT64 / 6to4 forms of an allowed IPv4 address', () => {
    const policy = { allow: parseAllowlist(['127.0.0.1/32']) };
    expect(refusal('64:ff9b::7f00:1', policy)).toMatch(/rfc6052/);
    expect(refusal('2002:7f00:1::', policy)).toMatch(/6to4/);
  });

  it('several entries combine', () => {
    const policy = { allow: parseAllowlist(['127.0.0.0/8', '::1/128', '192.168.10.0/24']) };
    expect(refusal('127.0.0.5', policy)).toBeUndefined();
    expect(refusal('::1', policy)).toBeUndefined();
    expect(refusal('192.168.10.7', policy)).toBeUndefined();
    expect(refusal('192.168.11.7', policy)).toMatch(/private/);
  });

  it('parseAllowlist parses CIDRs and bare addresses', () => {
    const parsed = parseAllowlist(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8']);
    expect(parsed.map(([net, bits]) => `${net.toString()}/${bits}`)).toEqual([
      '127.0.0.1/32',
      '10.0.0.0/8',
      '::1/128',
      'fd00::/8',
    ]);
    expect(parseAllowlist([])).toEqual([]);
    expect(() => parseAllowlist(['not-an-address'])).toThrow();
  });
});

// ---------------------------------------------------------------------------------------------------
// guardedLookup with a fake resolver (no DNS, no network)
// ---------------------------------------------------------------------------------------------------

interface Call {
  hostname: string;
  options: unknown;
}

/** A resolver answering from a table; unknown names fail with ENOTFOUND. Never touches the network. */
function fakeResolver(table: Record<string, LookupAddress[]>, calls: Call[] = []): LookupFn {
  const fn = (hostname: string, options: unknown, callback: unknown) => {
    calls.push({ hostname, options });
    const cb = (typeof options === 'function' ? options : callback) as (
      err: NodeJS.ErrnoException | null,
      addresses?: LookupAddress[],
    ) => void;
    const answer = table[hostname];
    queueMicrotask(() => {
      if (!answer) {
        const err = new Error(`getaddrinfo ENOTFOUND ${hostname}`) as NodeJS.ErrnoException;
        err.code = 'ENOTFOUND';
        cb(err);
      } else cb(null, answer);
    });
  };
  return fn as unknown as LookupFn;
}

type LookupResult = { err: Error | null; address?: string | LookupAddress[]; family?: number };

function runLookup(
  lookup: LookupFn,
  hostname: string,
  options: Record<string, unknown>,
): Promise<LookupResult> {
  return new Promise((resolve) => {
    (
      lookup as unknown as (
        h: string,
        o: unknown,
        cb: (err: Error | null, address?: string | LookupAddress[], family?: number) => void,
      ) => void
    )(hostname, options, (err, address, family) => resolve({ err, address, family }));
  });
}

const v4 = (address: string): LookupAddress => ({ address, family: 4 });
const v6 = (address: string): LookupAddress => ({ address, family: 6 });

describe('guardedLookup', () => {
  const table: Record<string, LookupAddress[]> = {
    'public.test': [v4('8.8.8.8'), v6('2606:4700::1111')],
    'public6.test': [v6('2606:4700::1111')],
    'loop.test': [v4('127.0.0.1')],
    'rebind.test': [v4('8.8.8.8'), v4('127.0.0.2')],
    'mixed-last.test': [v4('1.1.1.1'), v4('8.8.8.8'), v6('::1')],
    'metadata.test': [v4('169.254.169.254')],
    'mapped.test': [v6('::ffff:10.0.0.1')],
    'private.test': [v4('1.1.1.1'), v4('192.168.0.10')],
    'empty.test': [],
    'allowed.test': [v4('127.0.0.1'), v4('127.0.0.2')],
  };

  it.each([
    ['loop.test'],
    ['rebind.test'],
    ['mixed-last.test'],
    ['metadata.test'],
    ['mapped.test'],
    ['private.test'],
  ])('refuses %s: an answer containing ANY refused address', async (hostname) => {
    const calls: Call[] = [];
    const lookup = guardedLookup(NONE, fakeResolver(table, calls));
    for (const options of [{}, { all: true }, { family: 4 }]) {
      const r = await runLookup(lookup, hostname, options);
      expect(r.err).toBeInstanceOf(AddressRefusedError);
      expect(r.err!.message).toContain(hostname);
      expect(r.err!.message).toMatch(/resolves to/);
      expect(r.address).toBeUndefined();
    }
    expect(calls.every((c) => c.hostname === hostname)).toBe(true);
  });

  it('names the refused address and its range', async () => {
    const lookup = guardedLookup(NONE, fakeResolver(table));
    const r = await runLookup(lookup, 'rebind.test', {});
    expect(r.err).toBeInstanceOf(AddressRefusedError);
    expect((r.err as AddressRefusedError).reason).toBe(
      'rebind.test resolves to 127.0.0.2 is in the loopback range',
    );
  });

  it('asks the resolver for all addresses whatever the caller asked for', async () => {
    const calls: Call[] = [];
    const lookup = guardedLookup(NONE, fakeResolver(table, calls));
    await runLookup(lookup, 'public.test', {});
    await runLookup(lookup, 'public.test', { family: 6 });
    expect(calls).toHaveLength(2);
    expect(calls[0]!.options).toMatchObject({ all: true, family: 0 });
    expect(calls[1]!.options).toMatchObject({ all: true, family: 6 });
  });

  it('passes an all-public answer through: with all: true, the whole list', async () => {
    const lookup = guardedLookup(NONE, fakeResolver(table));
    const r = await runLookup(lookup, 'public.test', { all: true });
    expect(r.err).toBeNull();
    expect(r.address).toEqual([v4('8.8.8.8'), v6('2606:4700::1111')]);
  });

  it('passes an all-public answer through: without all, the first address and its family', async () => {
    const lookup = guardedLookup(NONE, fakeResolver(table));
    const r = await runLookup(lookup, 'public.test', {});
    expect(r.err).toBeNull();
    expect(r.address).toBe('8.8.8.8');
    expect(r.family).toBe(4);
    const r6 = await runLookup(lookup, 'public6.test', {});
    expect(r6.err).toBeNull();
    expect(r6.address).toBe('2606:4700::1111');
    expect(r6.family).toBe(6);
  });

  it('accepts the (hostname, callback) form', async () => {
    const lookup = guardedLookup(NONE, fakeResolver(table)) as unknown as (
      h: string,
      cb: (err: Error | null, a?: string, f?: number) => void,
    ) => void;
    const r = await new Promise<LookupResult>((resolve) =>
      lookup('public.test', (err, address, family) => resolve({ err, address, family })),
    );
    expect(r.err).toBeNull();
    expect(r.address).toBe('8.8.8.8');
    expect(r.family).toBe(4);
  });

  it('an allowlist admits the addresses it covers and only those', async () => {
    const exact = guardedLookup({ allow: parseAllowlist(['127.0.0.1/32']) }, fakeResolver(table));
    expect((await runLookup(exact, 'loop.test', {})).address).toBe('127.0.0.1');
    expect((await runLookup(exact, 'allowed.test', {})).err).toBeInstanceOf(AddressRefusedError);
    const wide = guardedLookup({ allow: parseAllowlist(['127.0.0.0/8']) }, fakeResolver(table));
    expect((await runLookup(wide, 'allowed.test', { all: true })).address).toEqual([
      v4('127.0.0.1'),
      v4('127.0.0.2'),
    ]);
    // The allowlist does not open anything else.
    expect((await runLookup(wide, 'metadata.test', {})).err).toBeInstanceOf(AddressRefusedError);
  });

  it('passes resolver errors through unchanged', async () => {
    const lookup = guardedLookup(NONE, fakeResolver(table));
    const r = await runLookup(lookup, 'unknown.test', {});
    expect(r.err).not.toBeInstanceOf(AddressRefusedError);
    expect((r.err as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
  });

  it('an empty answer is an error, not a success', async () => {
    const lookup = guardedLookup(NONE, fakeResolver(table));
    const r = await runLookup(lookup, 'empty.test', {});
    expect(r.err).toBeInstanceOf(Error);
    expect(r.err!.message).toMatch(/no address/);
    expect(r.address).toBeUndefined();
  });

  it('checks every call afresh (a rebinding resolver is caught on the second answer)', async () => {
    let n = 0;
    const flipping = ((
      _hostname: string,
      _options: unknown,
      cb: (err: Error | null, a?: LookupAddress[]) => void,
    ) => {
      n++;
      queueMicrotask(() => cb(null, n === 1 ? [v4('127.0.0.1')] : [v4('127.0.0.2')]));
    }) as unknown as LookupFn;
    const lookup = guardedLookup({ allow: parseAllowlist(['127.0.0.1/32']) }, flipping);
    expect((await runLookup(lookup, 'flip.test', {})).address).toBe('127.0.0.1');
    expect((await runLookup(lookup, 'flip.test', {})).err).toBeInstanceOf(AddressRefusedError);
  });
});
