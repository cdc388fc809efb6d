import { LogCapture } from './harness/log-capture';
import { Http, unique, useTestApp } from './harness/e2e';

/**
 * Which address the per-IP budget counts. The tests' requests come straight from 127.0.0.1, so
 * an X-Forwarded-For is either the client's own invention (TRUST_PROXY unset: ignored) or what a
 * trusted proxy in front of the service saw (TRUST_PROXY=1, or 127.0.0.1 in the list).
 */
const PER_IP = 4;
const limits = {
  AUTH_RATE_LIMIT_PER_IP: String(PER_IP),
  AUTH_RATE_WINDOW_SECONDS: '60',
};

let used = 0;
/** A documentation address (TEST-NET-3) no other test of this file uses. */
const address = () => `203.0.113.${(used += 1)}`;

/** One failed login for a new email, from `from` as the proxy tells it; the status. */
async function loginFrom(http: () => Http, from: string): Promise<number> {
  const response = await http()
    .post('/api/v1/auth/login')
    .set('X-Forwarded-For', from)
    .send({ email: `${unique('nobody')}@example.com`, password: 'not the password' });
  return response.status;
}

async function statusesFrom(http: () => Http, addresses: string[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const from of addresses) statuses.push(await loginFrom(http, from));
  return statuses;
}

const budget = (extra: number) => [
  ...Array<number>(PER_IP).fill(401),
  ...Array<number>(extra).fill(429),
];

describe('TRUST_PROXY unset: X-Forwarded-For is ignored (e2e)', () => {
  const ctx = useTestApp(limits);

  it('should count requests with different X-Forwarded-For values against one per-IP budget', async () => {
    // A client that writes a fresh X-Forwarded-For on every request still gets one budget.
    const spoofed = Array.from({ length: PER_IP + 2 }, (_, i) => `198.51.100.${i + 1}`);
    expect(await statusesFrom(ctx.http, spoofed)).toEqual(budget(2));
  });
});

describe('TRUST_PROXY=1: behind one load balancer (e2e)', () => {
  const capture = new LogCapture();
  const ctx = useTestApp({ ...limits, TRUST_PROXY: '1', LOG_LEVEL: 'info' }, capture);

  it('should give every client address its own per-IP budget', async () => {
    const [first, second] = [address(), address()];
    expect(await statusesFrom(ctx.http, Array<string>(PER_IP + 1).fill(first))).toEqual(budget(1));
    // One client using up its budget does not block the others behind the same proxy.
    expect(await statusesFrom(ctx.http, Array<string>(PER_IP + 1).fill(second))).toEqual(budget(1));
  });

  it('should count the addresses of one IPv6 /64 as one client, and another /64 apart', async () => {
    // One subscriber's network (a /64) has 2^64 addresses: a fresh one per request is no escape.
    const network = `2001:db8:${(used += 1).toString(16)}:1`;
    const rotating = Array.from(
      { length: PER_IP + 1 },
      (_, i) => `${network}::${(i + 1).toString(16)}`,
    );
    expect(await statusesFrom(ctx.http, rotating)).toEqual(budget(1));
    expect(await loginFrom(ctx.http, `2001:db8:${used.toString(16)}:2::1`)).toBe(401);
  });

  it('should take the address the load balancer saw, not one the client put before it', async () => {
    const real = address();
    const forged = Array.from({ length: PER_IP + 1 }, (_, i) => `10.1.1.${i + 1}, ${real}`);
    expect(await statusesFrom(ctx.http, forged)).toEqual(budget(1));
  });

  it('should log the client address the limits count', async () => {
    const from = address();
    await ctx
      .http()
      .post('/api/v1/auth/login')
      .set('X-Forwarded-For', `6.6.6.6, ${from}`)
      .set('X-Request-Id', 'trust-proxy-log-1')
      .send({ email: `${unique('nobody')}@example.com`, password: 'not the password' })
      .expect(401);
    await new Promise((resolve) => setImmediate(resolve));
    const entry = capture.entries.find(
      (line) => (line.req as { id?: string } | undefined)?.id === 'trust-proxy-log-1',
    );
    expect(entry).toMatchObject({ req: { remoteAddress: from }, res: { statusCode: 401 } });
  });
});

describe('TRUST_PROXY lists the proxies in front of the service (e2e)', () => {
  describe('with the proxy listed', () => {
    const ctx = useTestApp({ ...limits, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' });

    it('should believe X-Forwarded-For from a listed proxy', async () => {
      const [first, second] = [address(), address()];
      expect(await statusesFrom(ctx.http, Array<string>(PER_IP + 1).fill(first))).toEqual(
        budget(1),
      );
      expect(await statusesFrom(ctx.http, [second])).toEqual([401]);
    });
  });

  describe('with other proxies listed', () => {
    const ctx = useTestApp({ ...limits, TRUST_PROXY: '10.0.0.0/8' });

    it('should ignore X-Forwarded-For from an address that is not listed', async () => {
      const spoofed = Array.from({ length: PER_IP + 1 }, () => address());
      expect(await statusesFrom(ctx.http, spoofed)).toEqual(budget(1));
    });
  });
});
