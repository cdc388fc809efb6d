import { FastifyInstance } from 'fastify';
import { loadConfig } from '../config/app-config';
import { createHttpAdapter } from './http-adapter';

/** Fastify as the service configures it, answering each request with the client address it saw. */
async function serverWith(trustProxy?: string): Promise<FastifyInstance> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://u@localhost/db',
    TRUST_PROXY: trustProxy,
  });
  const instance = createHttpAdapter(config).getInstance<FastifyInstance>();
  instance.get('/ip', (request) => ({ ip: request.ip }));
  await instance.ready();
  return instance;
}

async function clientAddress(
  instance: FastifyInstance,
  peer: string,
  forwardedFor?: string,
): Promise<string> {
  const response = await instance.inject({
    method: 'GET',
    url: '/ip',
    remoteAddress: peer,
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  });
  return response.json<{ ip: string }>().ip;
}

describe(createHttpAdapter.name, () => {
  const servers: FastifyInstance[] = [];
  const server = async (trustProxy?: string) => {
    const instance = await serverWith(trustProxy);
    servers.push(instance);
    return instance;
  };
  afterAll(async () => {
    await Promise.all(servers.map((instance) => instance.close()));
  });

  it.each([undefined, 'false', '0'])(
    'should ignore X-Forwarded-For with TRUST_PROXY=%s, so a client cannot pick its address',
    async (setting) => {
      const instance = await server(setting);
      expect(await clientAddress(instance, '10.0.0.5', '203.0.113.9')).toBe('10.0.0.5');
      expect(await clientAddress(instance, '10.0.0.5', '198.51.100.1, 203.0.113.9')).toBe(
        '10.0.0.5',
      );
    },
  );

  it('should take the address the one trusted hop saw with TRUST_PROXY=1, not what the client wrote', async () => {
    const instance = await server('1');
    expect(await clientAddress(instance, '10.0.0.5', '203.0.113.9')).toBe('203.0.113.9');
    // A client's own X-Forwarded-For comes first; the load balancer appends what it saw.
    expect(await clientAddress(instance, '10.0.0.5', '6.6.6.6, 203.0.113.9')).toBe('203.0.113.9');
    expect(await clientAddress(instance, '10.0.0.5')).toBe('10.0.0.5');
  });

  it('should walk back two hops with TRUST_PROXY=2', async () => {
    const instance = await server('2');
    expect(await clientAddress(instance, '10.0.0.5', '6.6.6.6, 203.0.113.9, 10.0.0.7')).toBe(
      '203.0.113.9',
    );
  });

  it('should believe only listed proxies and CIDR ranges', async () => {
    const instance = await server('10.0.0.5, 172.16.0.0/12');
    // From a listed proxy: the address it forwarded.
    expect(await clientAddress(instance, '10.0.0.5', '203.0.113.9')).toBe('203.0.113.9');
    // Through two proxies of the list: past both.
    expect(await clientAddress(instance, '10.0.0.5', '203.0.113.9, 172.20.1.1')).toBe(
      '203.0.113.9',
    );
    // Straight from a client that is no listed proxy: its header is ignored.
    expect(await clientAddress(instance, '198.51.100.7', '203.0.113.9')).toBe('198.51.100.7');
    // A listed proxy forwarding for an unlisted hop stops at that hop.
    expect(await clientAddress(instance, '10.0.0.5', '6.6.6.6, 198.51.100.7')).toBe('198.51.100.7');
  });

  it('should know range names and IPv6 peers', async () => {
    const instance = await server('loopback');
    expect(await clientAddress(instance, '127.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    expect(await clientAddress(instance, '::1', '2001:db8::7')).toBe('2001:db8::7');
    expect(await clientAddress(instance, '::ffff:127.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    expect(await clientAddress(instance, '10.0.0.5', '203.0.113.9')).toBe('10.0.0.5');
  });
});
