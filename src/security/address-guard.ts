/**
 * The address guard for upload by URL. Only public unicast addresses may be fetched, unless an
 * allowlisted CIDR admits them: loopback, private, link-local (and so cloud metadata at
 * 169.254.169.254), CGNAT, multicast, unspecified, broadcast, reserved, unique-local IPv6 and
 * IPv4-mapped/translated IPv6 forms of any of those are refused. `guardedLookup` checks the address a
 * connection is actually made to, so a DNS answer cannot change between check and connect.
 * Classification is ipaddr.js's `range()`; only the policy is written here.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';

export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96') as [ipaddr.IPv6, number];

export interface AddressPolicy {
  /** CIDRs admitted even though their range is not public. */
  allow: Cidr[];
}

/**
 * Parses allowlist entries (`127.0.0.1/32`, `10.1.0.0/16`, `::1/128`, or a bare address).
 * @example parseAllowlist(['127.0.0.1/32'])
 */
export function parseAllowlist(entries: string[]): Cidr[] {
  return entries.map((e) =>
    e.includes('/')
      ? ipaddr.parseCIDR(e)
      : ([ipaddr.parse(e), ipaddr.parse(e).kind() === 'ipv4' ? 32 : 128] as Cidr),
  );
}

/** Why an address is refused, or undefined when it may be fetched. */
export function refusal(address: string, policy: AddressPolicy): string | undefined {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return `${address} is not an IP address`;
  }
  for (const [net, bits] of policy.allow) {
    if (ip.kind() === net.kind() && ip.match(net, bits)) return undefined;
  }
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    // An IPv4-mapped address is judged as the IPv4 address it reaches (allowlist included).
    if (v6.isIPv4MappedAddress()) {
      const why = refusal(v6.toIPv4Address().toString(), policy);
      return why ? `${address} maps to ${why}` : undefined;
    }
    const range = v6.range();
    // NAT64, 6to4 and Teredo embed an IPv4 target that we cannot vet reliably: refuse them all.
    if (range !== 'unicast') return `${address} is in the ${range} range`;
    // IPv4-compatible addresses (::a.b.c.d, deprecated) are not in ipaddr.js's table: refuse the block.
    if (v6.match(IPV4_COMPATIBLE)) return `${address} is in the ipv4Compatible range`;
    return undefined;
  }
  const range = (ip as ipaddr.IPv4).range();
  if (range !== 'unicast') return `${address} is in the ${range} range`;
  return undefined;
}

export class AddressRefusedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export type LookupFn = typeof dnsLookup;

/**
 * A `lookup` for http.request/net.connect that resolves the name and refuses the connection when any
 * answer is not allowed. Node connects to the address this returns, so no rebinding window remains.
 */
export function guardedLookup(policy: AddressPolicy, resolve: LookupFn = dnsLookup): LookupFn {
  const guarded = (hostname: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (
      err: Error | null,
      address?: string | LookupAddress[],
      family?: number,
    ) => void;
    const opts = (typeof options === 'object' && options !== null ? options : {}) as {
      all?: boolean;
      family?: number;
    };
    resolve(hostname, { all: true, family: opts.family ?? 0 }, (err, addresses) => {
      if (err) return cb(err);
      const list = addresses as LookupAddress[];
      for (const a of list) {
        const why = refusal(a.address, policy);
        if (why) return cb(new AddressRefusedError(`${hostname} resolves to ${why}`));
      }
      if (list.length === 0) return cb(new Error(`${hostname} has no address`));
      if (opts.all) return cb(null, list);
      return cb(null, list[0]!.address, list[0]!.family);
    });
  };
  return guarded as unknown as LookupFn;
}
