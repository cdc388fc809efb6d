import Redis, { Result } from 'ioredis';

/** Why a tenant's request is refused, and when one may come back. */
export interface TenantRefusal {
  kind: 'rate' | 'concurrency';
  retryAfterMs: number;
}

/** Each tenant's budget: requests per one-second window, and requests in flight. 0: no limit. */
export interface TenantBudgets {
  requestsPerSecond: number;
  concurrent: number;
}

/**
 * Where the tenants' budgets are counted: in this process, or in Redis for every process and
 * instance. `enter` takes a request's place (or says why it may not have one); every request that
 * entered must `leave` once it is answered.
 */
export interface TenantBudgetStore {
  enter(tenant: string, now: number): Promise<TenantRefusal | undefined>;
  leave(tenant: string): Promise<void>;
  /** Notes a refusal, for the operators' list of tenants limited lately. */
  refused(tenant: string, kind: TenantRefusal['kind'], now: number): Promise<void>;
  /** Tenants refused since `since` (ms), with their latest refusal of each kind, newest first. */
  refusedSince(since: number): Promise<RecentRefusal[]>;
}

export interface RecentRefusal {
  tenantId: string;
  kind: TenantRefusal['kind'];
  at: number;
}

/** How long a refusal stays on the operators' list. */
export const REFUSALS_KEPT_MS = 5 * 60_000;

const WINDOW_MS = 1_000;
/** A slot left by a process that died is given back after this long. */
const IN_FLIGHT_TTL_MS = 60_000;

function rateRefusal(now: number): TenantRefusal {
  return { kind: 'rate', retryAfterMs: WINDOW_MS - (now % WINDOW_MS) };
}

const CONCURRENCY_REFUSAL: TenantRefusal = { kind: 'concurrency', retryAfterMs: WINDOW_MS };

interface Count {
  window: number;
  requests: number;
  inFlight: number;
}

/** In this process's memory: one small entry per tenant active in the last seconds. */
export class MemoryTenantBudgetStore implements TenantBudgetStore {
  private readonly counts = new Map<string, Count>();
  private sweptWindow = 0;
  /** `${kind}:${tenant}` -> time of the latest refusal. */
  private readonly refusals = new Map<string, number>();

  refused(tenant: string, kind: TenantRefusal['kind'], now: number): Promise<void> {
    const key = `${kind}:${tenant}`;
    // Re-inserted, so the map stays ordered oldest first.
    this.refusals.delete(key);
    this.refusals.set(key, now);
    for (const [old, at] of this.refusals) {
      if (at >= now - REFUSALS_KEPT_MS) break;
      this.refusals.delete(old);
    }
    return Promise.resolve();
  }

  refusedSince(since: number): Promise<RecentRefusal[]> {
    return Promise.resolve(
      [...this.refusals]
        .filter(([, at]) => at >= since)
        .reverse()
        .map(([key, at]) => toRefusal(key, at)),
    );
  }

  constructor(private readonly budgets: TenantBudgets) {}

  enter(tenant: string, now: number): Promise<TenantRefusal | undefined> {
    const window = Math.floor(now / WINDOW_MS);
    this.sweep(window);
    let count = this.counts.get(tenant);
    if (!count) {
      count = { window, requests: 0, inFlight: 0 };
      this.counts.set(tenant, count);
    } else if (count.window !== window) {
      count.window = window;
      count.requests = 0;
    }
    const { requestsPerSecond, concurrent } = this.budgets;
    if (requestsPerSecond > 0 && count.requests >= requestsPerSecond) {
      return Promise.resolve(rateRefusal(now));
    }
    if (concurrent > 0 && count.inFlight >= concurrent) {
      return Promise.resolve(CONCURRENCY_REFUSAL);
    }
    count.requests += 1;
    count.inFlight += 1;
    return Promise.resolve(undefined);
  }

  leave(tenant: string): Promise<void> {
    const count = this.counts.get(tenant);
    if (count && count.inFlight > 0) count.inFlight -= 1;
    return Promise.resolve();
  }

  /** Once per window: tenants idle since the last one are forgotten, so memory stays bounded. */
  private sweep(window: number): void {
    if (window === this.sweptWindow) return;
    this.sweptWindow = window;
    for (const [tenant, count] of this.counts) {
      if (count.inFlight === 0 && count.window < window) this.counts.delete(tenant);
    }
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    notesTenantEnter(
      rateKey: string,
      inFlightKey: string,
      requestsPerSecond: number,
      concurrent: number,
      windowMs: number,
      inFlightTtlMs: number,
    ): Result<number, Context>;
    notesTenantLeave(inFlightKey: string): Result<number, Context>;
  }
}

/** 0: entered; 1: over the rate; 2: over the concurrency. One round trip, atomic. */
const ENTER_SCRIPT = `
local rate = tonumber(ARGV[1])
local concurrent = tonumber(ARGV[2])
if rate > 0 then
  local n = redis.call('INCR', KEYS[1])
  if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
  if n > rate then return 1 end
end
if concurrent > 0 then
  local n = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  if n > concurrent then
    redis.call('DECR', KEYS[2])
    return 2
  end
end
return 0
`;

const LEAVE_SCRIPT = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then return redis.call('DECR', KEYS[1]) end
return 0
`;

export const TENANT_KEY_PREFIX = 'notes:tenant:';

/**
 * In Redis, shared by every process and instance: a counter per tenant and one-second window
 * (expiring with it) and a counter of requests in flight (expiring a minute after the tenant's
 * last request, so a process that died with requests in flight cannot hold slots longer). The
 * tenant is a hash tag: both keys live in one slot of a Redis Cluster.
 */
export class RedisTenantBudgetStore implements TenantBudgetStore {
  constructor(
    private readonly redis: Redis,
    private readonly budgets: TenantBudgets,
  ) {
    redis.defineCommand('notesTenantEnter', { numberOfKeys: 2, lua: ENTER_SCRIPT });
    redis.defineCommand('notesTenantLeave', { numberOfKeys: 1, lua: LEAVE_SCRIPT });
  }

  async enter(tenant: string, now: number): Promise<TenantRefusal | undefined> {
    const window = Math.floor(now / WINDOW_MS);
    const answer = await this.redis.notesTenantEnter(
      `${TENANT_KEY_PREFIX}{${tenant}}:rate:${window}`,
      inFlightKey(tenant),
      this.budgets.requestsPerSecond,
      this.budgets.concurrent,
      WINDOW_MS * 2,
      IN_FLIGHT_TTL_MS,
    );
    if (answer === 1) return rateRefusal(now);
    if (answer === 2) return CONCURRENCY_REFUSAL;
    return undefined;
  }

  async leave(tenant: string): Promise<void> {
    if (this.budgets.concurrent <= 0) return;
    await this.redis.notesTenantLeave(inFlightKey(tenant));
  }

  async refused(tenant: string, kind: TenantRefusal['kind'], now: number): Promise<void> {
    await this.redis
      .multi()
      .zadd(REFUSALS_KEY, now, `${kind}:${tenant}`)
      .zremrangebyscore(REFUSALS_KEY, '-inf', now - REFUSALS_KEPT_MS)
      .pexpire(REFUSALS_KEY, REFUSALS_KEPT_MS)
      .exec();
  }

  async refusedSince(since: number): Promise<RecentRefusal[]> {
    const flat = await this.redis.zrevrangebyscore(REFUSALS_KEY, '+inf', since, 'WITHSCORES');
    const refusals: RecentRefusal[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2)
      refusals.push(toRefusal(flat[i], Number(flat[i + 1])));
    return refusals;
  }
}

const REFUSALS_KEY = `${TENANT_KEY_PREFIX}refusals`;

function toRefusal(key: string, at: number): RecentRefusal {
  const [kind, tenantId] = key.split(':') as [TenantRefusal['kind'], string];
  return { tenantId, kind, at };
}

const inFlightKey = (tenant: string) => `${TENANT_KEY_PREFIX}{${tenant}}:in-flight`;
