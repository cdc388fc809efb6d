import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppError } from '../errors/app-error';

interface Failures {
  count: number;
  /** Until then this client's next attempt for this email is refused without a password check. */
  blockedUntil: number;
  lastAt: number;
}

/** Quiet time after the last failure and the end of its wait before a client starts afresh. */
const FORGET_AFTER_MS = 60 * 60_000;
const MAX_DELAY_MS = 15 * 60_000;

/** Forgotten only after a quiet hour that starts once its wait is over, so a patient guesser
 * at the longest wait keeps it: one try per 15 minutes, not a fresh set of free tries. */
function forgettable(entry: Failures, now: number): boolean {
  return now - Math.max(entry.lastAt, entry.blockedUntil) > FORGET_AFTER_MS;
}

/**
 * Failed logins slow down the client that failed, not the account: failures are counted per
 * (email, client address). After AUTH_RATE_LIMIT_PER_EMAIL failures that client waits before its
 * next try, and each further failure doubles
 * that client's wait (1 s, 2 s, 4 s ... up to 15 min). A client without recent failures is never
 * refused because of somebody else's attempts, so nobody can lock an owner out. When one email
 * collects failures from many clients (a spread-out guessing run), every client that fails for
 * it waits from its first failure. In memory, per process.
 */
@Injectable()
export class LoginBackoff {
  private readonly byClient = new Map<string, Failures>();
  private readonly byEmail = new Map<string, Failures>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Refuses (429 with Retry-After) while this client must wait for this email. */
  check(email: string, client: string, now = Date.now()): void {
    const entry = this.live(this.byClient, `${email}\n${client}`, now);
    if (entry && entry.blockedUntil > now) {
      const seconds = Math.max(1, Math.ceil((entry.blockedUntil - now) / 1000));
      throw new AppError(
        'TOO_MANY_REQUESTS',
        `Too many failed logins from here; retry in ${seconds} s`,
        undefined,
        { 'Retry-After': String(seconds) },
      );
    }
  }

  failed(email: string, client: string, now = Date.now()): void {
    const free = this.config.rateLimit.perEmail;
    const emailWide = this.bump(this.byEmail, email, now);
    const own = this.bump(this.byClient, `${email}\n${client}`, now);
    // Many clients failing for one email: no free tries left for any client that fails too.
    const excess = emailWide.count > free * 5 ? own.count : own.count - free + 1;
    if (excess > 0) own.blockedUntil = now + Math.min(MAX_DELAY_MS, 1000 * 2 ** (excess - 1));
    this.sweep(now);
  }

  succeeded(email: string, client: string): void {
    this.byClient.delete(`${email}\n${client}`);
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
  private sweeps = 0;
  private sweep(now: number): void {
    if ((this.sweeps += 1) % 10_000 !== 0) return;
    for (const map of [this.byClient, this.byEmail]) {
      for (const [key, entry] of map) {
        if (forgettable(entry, now)) map.delete(key);
      }
    }
  }
}
