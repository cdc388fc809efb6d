import Redis from 'ioredis';
import {
  closeRedisClient,
  LocalRedis,
  redisServerBinary,
  startLocalRedis,
} from '../../test/harness/redis-server';
import {
  MemoryTenantBudgetStore,
  RedisTenantBudgetStore,
  TenantBudgets,
  TenantBudgetStore,
} from './tenant-budget-store';

/** The start of a one-second window. */
const T0 = Date.UTC(2030, 0, 1);

const binary = redisServerBinary(process.env);
/** Skipped, and counted as [redis] by the summary reporter, where no redis-server is installed. */
const describeRedis: jest.Describe = binary ? describe : describe.skip;

/** The rules, run against every store: whatever counts, a tenant gets the same share. */
function behavesAsTheBudget(make: (budgets: TenantBudgets) => TenantBudgetStore): void {
  it('should admit a second’s worth of requests, refuse the next until the window ends', async () => {
    const store = make({ requestsPerSecond: 3, concurrent: 0 });
    for (let i = 0; i < 3; i += 1) await expect(store.enter('1', T0 + i)).resolves.toBeUndefined();
    await expect(store.enter('1', T0 + 400)).resolves.toEqual({ kind: 'rate', retryAfterMs: 600 });
    // Another tenant has its own share.
    await expect(store.enter('2', T0 + 400)).resolves.toBeUndefined();
    await expect(store.enter('1', T0 + 1000)).resolves.toBeUndefined();
  });

  it('should admit as many requests in flight as the share, and one more once one leaves', async () => {
    const store = make({ requestsPerSecond: 0, concurrent: 2 });
    await expect(store.enter('1', T0)).resolves.toBeUndefined();
    await expect(store.enter('1', T0)).resolves.toBeUndefined();
    await expect(store.enter('1', T0)).resolves.toEqual({
      kind: 'concurrency',
      retryAfterMs: 1000,
    });
    await expect(store.enter('2', T0)).resolves.toBeUndefined();
    await store.leave('1');
    await expect(store.enter('1', T0 + 5000)).resolves.toBeUndefined();
    // Leaving more often than entering never makes room beyond the share.
    for (let i = 0; i < 5; i += 1) await store.leave('2');
    await expect(store.enter('2', T0)).resolves.toBeUndefined();
    await expect(store.enter('2', T0)).resolves.toBeUndefined();
    await expect(store.enter('2', T0)).resolves.toMatchObject({ kind: 'concurrency' });
  });

  it('should list the tenants refused lately, newest first, once per tenant and kind', async () => {
    const store = make({ requestsPerSecond: 1, concurrent: 1 });
    await store.refused('7', 'rate', T0);
    await store.refused('8', 'concurrency', T0 + 10);
    await store.refused('7', 'rate', T0 + 20);
    await expect(store.refusedSince(T0 - 1)).resolves.toEqual([
      { tenantId: '7', kind: 'rate', at: T0 + 20 },
      { tenantId: '8', kind: 'concurrency', at: T0 + 10 },
    ]);
    await expect(store.refusedSince(T0 + 15)).resolves.toEqual([
      { tenantId: '7', kind: 'rate', at: T0 + 20 },
    ]);
  });
}

describe(MemoryTenantBudgetStore.name, () => {
  behavesAsTheBudget((budgets) => new MemoryTenantBudgetStore(budgets));

  it('should forget tenants idle for a window, keeping memory bounded', async () => {
    const store = new MemoryTenantBudgetStore({ requestsPerSecond: 10, concurrent: 10 });
    for (let i = 0; i < 1000; i += 1) {
      await store.enter(String(i), T0);
      await store.leave(String(i));
    }
    await store.enter('busy', T0 + 2000);
    expect((store as unknown as { counts: Map<string, unknown> }).counts.size).toBe(1);
  });
});

describeRedis(`[redis] ${RedisTenantBudgetStore.name}`, () => {
  let server: LocalRedis | undefined;
  let first: Redis;
  let second: Redis;

  beforeAll(async () => {
    server = await startLocalRedis(binary as string);
    first = new Redis(server.url);
    second = new Redis(server.url);
  });
  afterAll(async () => {
    await closeRedisClient(first);
    await closeRedisClient(second);
    await server?.stop();
  });
  beforeEach(async () => {
    await first.flushdb();
  });

  describe('[redis] the rules', () => {
    // Every other call through the other connection: the share holds across instances.
    behavesAsTheBudget((budgets) => {
      const stores = [
        new RedisTenantBudgetStore(first, budgets),
        new RedisTenantBudgetStore(second, budgets),
      ];
      let turn = 0;
      const next = () => stores[(turn += 1) % 2];
      return {
        enter: (tenant, now) => next().enter(tenant, now),
        leave: (tenant) => next().leave(tenant),
        refused: (tenant, kind, now) => next().refused(tenant, kind, now),
        refusedSince: (since) => next().refusedSince(since),
      };
    });
  });

  it('[redis] should count every one of many requests arriving at once on two instances', async () => {
    const budgets = { requestsPerSecond: 100, concurrent: 0 };
    const one = new RedisTenantBudgetStore(first, budgets);
    const two = new RedisTenantBudgetStore(second, budgets);
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) => (i % 2 ? one : two).enter('1', T0)),
    );
    expect(answers.filter((answer) => answer === undefined)).toHaveLength(100);
  });

  it('[redis] should let every key expire', async () => {
    const store = new RedisTenantBudgetStore(first, { requestsPerSecond: 5, concurrent: 5 });
    await store.enter('1', Date.now());
    await store.refused('1', 'rate', Date.now());
    const keys = await first.keys('*');
    expect(keys.length).toBe(3);
    for (const key of keys) {
      expect(key.startsWith('notes:tenant:')).toBe(true);
      expect(await first.pttl(key)).toBeGreaterThan(0);
    }
  });
});
