/**
 * Where the login backoff keeps its counts: in this process's memory, or in Redis for every
 * process and instance (redis-login-backoff-store.ts). Both follow the same rules, checked by
 * one shared spec (login-backoff-store.spec.ts):
 *
 * - failures are counted per (email, client address); once a client has had `freeFailures` for
 *   an email, it must wait before its next try for that email: 1 s, then each further failure
 *   doubles the wait, up to 15 minutes;
 * - a client without failures of its own is never made to wait, so nobody locks an owner out;
 * - when one email has more than 5 x `freeFailures` failures from all clients together (a
 *   spread-out guessing run), every client that fails for it waits from its first failure;
 * - counts are forgotten after a quiet hour that starts once the client's wait is over, so a
 *   patient guesser at the longest wait keeps it (one try per 15 minutes, not fresh free tries);
 * - a success clears that client's count for that email (not the email-wide count).
 *
 * `now` is the caller's clock, in milliseconds.
 */
export interface LoginBackoffStore {
  /** Milliseconds this client must still wait before trying this email again; 0 when it may. */
  waitMs(email: string, client: string, now: number): Promise<number>;
  failed(email: string, client: string, now: number): Promise<void>;
  succeeded(email: string, client: string): Promise<void>;
}

/** The LoginBackoffStore the service uses (rate-limit-stores.ts chooses it at start-up). */
export const LOGIN_BACKOFF_STORE = Symbol('LOGIN_BACKOFF_STORE');

/** Quiet time after the last failure and the end of its wait before a client starts afresh. */
export const FORGET_AFTER_MS = 60 * 60_000;
export const MAX_DELAY_MS = 15 * 60_000;
/** Email-wide failures beyond this many times the free tries leave no free tries to anyone. */
export const SPREAD_ATTACK_FACTOR = 5;

interface Failures {
  count: number;
  /** Until then this client's next attempt for this email is refused without a password check. */
  blockedUntil: number;
  lastAt: number;
}

function forgettable(entry: Failures, now: number): boolean {
  return now - Math.max(entry.lastAt, entry.blockedUntil) > FORGET_AFTER_MS;
}

/** The wait after a client's failure, from its count and the email's count. */
export function delayAfterFailure(own: number, emailWide: number, free: number): number {
  const excess = emailWide > free * SPREAD_ATTACK_FACTOR ? own : own - free + 1;
  return excess > 0 ? Math.min(MAX_DELAY_MS, 1000 * 2 ** (excess - 1)) : 0;
}

/** In this process's memory: each process (and instance) counts on its own. */
export class MemoryLoginBackoffStore implements LoginBackoffStore {
  private readonly byClient = new Map<string, Failures>();
  private readonly byEmail = new Map<string, Failures>();
  private sweeps = 0;

  constructor(private readonly freeFailures: number) {}

  waitMs(email: string, client: string, now: number): Promise<number> {
    const entry = this.live(this.byClient, `${email}\n${client}`, now);
    return Promise.resolve(entry ? Math.max(0, entry.blockedUntil - now) : 0);
  }

  failed(email: string, client: string, now: number): Promise<void> {
    const emailWide = this.bump(this.byEmail, email, now);
    const own = this.bump(this.byClient, `${email}\n${client}`, now);
    const delay = delayAfterFailure(own.count, emailWide.count, this.freeFailures);
    if (delay > 0) own.blockedUntil = now + delay;
    this.sweep(now);
    return Promise.resolve();
  }

  succeeded(email: string, client: string): Promise<void> {
    this.byClient.delete(`${email}\n${client}`);
    return Promise.resolve();
  }

  private live(map: Map<string, Failures>, key: string, now: number): Failures | undefined {
    const entry = map.get(key);
    if (entry && forgettable(entry, now)) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  private bump(map: Map<string, Failures>, key: string, now: number): Failures {
    const entry = this.live(map, key, now) ?? { count: 0, blockedUntil: 0, lastAt: now };
    entry.count += 1;
    entry.lastAt = now;
    map.set(key, entry);
    return entry;
  }

  /** Keeps memory bounded: forgets entries idle long enough (at most every 10,000 failures). */
  private sweep(now: number): void {
    if ((this.sweeps += 1) % 10_000 !== 0) return;
    for (const map of [this.byClient, this.byEmail]) {
      for (const [key, entry] of map) {
        if (forgettable(entry, now)) map.delete(key);
      }
    }
  }
}
