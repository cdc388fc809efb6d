import Redis, { Result } from 'ioredis';
import {
  FORGET_AFTER_MS,
  LoginBackoffStore,
  MAX_DELAY_MS,
  SPREAD_ATTACK_FACTOR,
} from './login-backoff-store';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    notesLoginFailed(
      emailKey: string,
      clientKey: string,
      now: number,
      free: number,
      forgetAfterMs: number,
      maxDelayMs: number,
      spreadFactor: number,
    ): Result<number, Context>;
  }
}

/**
 * One failed login, counted atomically in Redis: the email-wide and the client's count are read,
 * reset when forgettable, incremented and written back, with the client's wait, in one script,
 * so failures arriving at the same moment on several instances are all counted. Each hash
 * expires once it would be forgotten anyway, which keeps Redis' memory bounded. The rules are
 * delayAfterFailure's and MemoryLoginBackoffStore's (login-backoff-store.ts); the shared spec
 * runs the same cases on both. Returns the client's wait in milliseconds.
 */
const FAILED_SCRIPT = `
local now = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
local forget = tonumber(ARGV[3])
local maxDelay = tonumber(ARGV[4])
local spread = tonumber(ARGV[5])

local function bump(key)
  local v = redis.call('HMGET', key, 'count', 'blockedUntil', 'lastAt')
  local count = tonumber(v[1]) or 0
  local blocked = tonumber(v[2]) or 0
  local last = tonumber(v[3]) or now
  if now - math.max(last, blocked) > forget then
    count = 0
    blocked = 0
  end
  return count + 1, blocked
end

local emailWide = bump(KEYS[1])
redis.call('HSET', KEYS[1], 'count', emailWide, 'lastAt', now)
redis.call('PEXPIRE', KEYS[1], forget + 1000)

local own, blocked = bump(KEYS[2])
local excess = own - free + 1
if emailWide > free * spread then excess = own end
local wait = 0
if excess > 0 then
  wait = math.min(maxDelay, 1000 * 2 ^ (excess - 1))
  blocked = now + wait
end
redis.call('HSET', KEYS[2], 'count', own, 'blockedUntil', blocked, 'lastAt', now)
redis.call('PEXPIRE', KEYS[2], math.max(now, blocked) - now + forget + 1000)
return wait
`;

/** Key prefix of every hash this store writes. */
export const BACKOFF_KEY_PREFIX = 'notes:backoff:';

/**
 * The login backoff in Redis, shared by every process and instance. Keys carry the email in a
 * hash tag, so an email's two hashes live in one slot (Redis Cluster runs the script too).
 * `now` comes from the calling instance: instances are expected to keep their clocks in step
 * (NTP), as a skew of s seconds shifts a wait by s seconds.
 */
export class RedisLoginBackoffStore implements LoginBackoffStore {
  constructor(
    private readonly redis: Redis,
    private readonly freeFailures: number,
  ) {
    // ioredis sends the script once per connection, then calls it by its SHA1 (EVALSHA).
    redis.defineCommand('notesLoginFailed', { numberOfKeys: 2, lua: FAILED_SCRIPT });
  }

  async waitMs(email: string, client: string, now: number): Promise<number> {
    const [blockedUntil, lastAt] = await this.redis.hmget(
      clientKey(email, client),
      'blockedUntil',
      'lastAt',
    );
    const blocked = Number(blockedUntil ?? 0);
    // An entry that would be forgotten no longer counts, even before Redis expires it.
    if (now - Math.max(Number(lastAt ?? 0), blocked) > FORGET_AFTER_MS) return 0;
    return Math.max(0, blocked - now);
  }

  async failed(email: string, client: string, now: number): Promise<void> {
    await this.redis.notesLoginFailed(
      emailKey(email),
      clientKey(email, client),
      now,
      this.freeFailures,
      FORGET_AFTER_MS,
      MAX_DELAY_MS,
      SPREAD_ATTACK_FACTOR,
    );
  }

  async succeeded(email: string, client: string): Promise<void> {
    await this.redis.del(clientKey(email, client));
  }
}

export const emailKey = (email: string) => `${BACKOFF_KEY_PREFIX}email:{${email}}`;
export const clientKey = (email: string, client: string) =>
  `${BACKOFF_KEY_PREFIX}client:{${email}}:${client}`;
