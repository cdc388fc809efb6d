import ipaddr from 'ipaddr.js';

/**
 * The client a budget counts: an IPv4 address as it is, an IPv6 address by its /64 network. One
 * subscriber usually gets a whole /64, so counting single IPv6 addresses would give one client
 * 2^64 budgets. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as their IPv4 address. Parsed
 * with ipaddr.js, as Fastify's proxy-addr parses the addresses it hands over.
 */
export function clientOf(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const network = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${network.join(':')}::/64`;
}
