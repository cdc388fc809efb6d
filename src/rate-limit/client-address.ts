import { isIPv4, isIPv6 } from 'node:net';

/** Hextets of an IPv6 address (an embedded IPv4 tail included), or undefined when not one. */
function hextets(address: string): number[] | undefined {
  if (!isIPv6(address)) return undefined;
  let text = address.split('%')[0];
  const tail = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail[1].split('.').map(Number);
    text = `${text.slice(0, tail.index)}:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest === undefined ? [] : rest ? rest.split(':') : [];
  const missing = 8 - left.length - right.length;
  const parts = [...left, ...Array<string>(rest === undefined ? 0 : missing).fill('0'), ...right];
  return parts.length === 8 ? parts.map((part) => parseInt(part, 16)) : undefined;
}

/**
 * The client a budget counts: an IPv4 address as it is, an IPv6 address by its /64 network. One
 * subscriber usually gets a whole /64, so counting single IPv6 addresses would give one client
 * 2^64 budgets. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as their IPv4 address.
 */
export function clientOf(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  if (isIPv4(address)) return address;
  const parts = hextets(address);
  if (!parts) return address;
  const mapped = parts.slice(0, 5).every((part) => part === 0) && parts[5] === 0xffff;
  if (mapped) return [parts[6] >> 8, parts[6] & 255, parts[7] >> 8, parts[7] & 255].join('.');
  return `${parts
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(':')}::/64`;
}
