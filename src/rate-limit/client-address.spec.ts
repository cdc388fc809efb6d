import { clientOf } from './client-address';

describe(clientOf.name, () => {
  it('should count an IPv4 address as it is', () => {
    expect(clientOf('203.0.113.9')).toBe('203.0.113.9');
  });

  it('should count every address of one IPv6 /64 as one client', () => {
    const a = clientOf('2001:db8:1:2:aaaa:bbbb:cccc:dddd');
    const b = clientOf('2001:0db8:0001:0002::1');
    expect(a).toBe('2001:db8:1:2::/64');
    expect(b).toBe(a);
    expect(clientOf('2001:db8:1:3::1')).not.toBe(a);
  });

  it('should read compressed forms, zones and embedded IPv4 tails', () => {
    expect(clientOf('::1')).toBe('0:0:0:0::/64');
    expect(clientOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientOf('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(clientOf('64:ff9b::192.0.2.33')).toBe('64:ff9b:0:0::/64');
  });

  it('should count an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(clientOf('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientOf('::ffff:cb00:7109')).toBe('203.0.113.9');
  });

  it('should keep what is not an address, and name a missing one', () => {
    expect(clientOf(undefined)).toBe('unknown');
    expect(clientOf('')).toBe('unknown');
    expect(clientOf('not an address')).toBe('not an address');
  });
});
