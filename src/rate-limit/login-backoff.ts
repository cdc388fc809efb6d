import { Inject, Injectable, Optional } from '@nestjs/common';
import { AppError } from '../errors/app-error';
import { MetricsService } from '../metrics/metrics.service';
import { LOGIN_BACKOFF_STORE, LoginBackoffStore } from './login-backoff-store';

/**
 * Failed logins slow down the client that failed, not the account: failures are counted per
 * (email, client address). After AUTH_RATE_LIMIT_PER_EMAIL failures that client waits before its
 * next try, and each further failure doubles that client's wait (1 s, 2 s, 4 s ... up to
 * 15 min). A client without recent failures is never refused because of somebody else's
 * attempts, so nobody can lock an owner out. When one email collects failures from many clients
 * (a spread-out guessing run), every client that fails for it waits from its first failure.
 * The rules in full are in login-backoff-store.ts; the counts live in Redis with REDIS_URL
 * (shared by every process and instance), otherwise in this process's memory.
 */
@Injectable()
export class LoginBackoff {
  constructor(
    @Inject(LOGIN_BACKOFF_STORE) private readonly store: LoginBackoffStore,
    // Optional: unit specs build the backoff without the metrics module.
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  /** Refuses (429 with Retry-After) while this client must wait for this email. */
  async check(email: string, client: string, now = Date.now()): Promise<void> {
    const waitMs = await this.store.waitMs(email, client, now);
    if (waitMs > 0) {
      this.metrics?.loginBackoff();
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw new AppError(
        'TOO_MANY_REQUESTS',
        `Too many failed logins from here; retry in ${seconds} s`,
        undefined,
        { 'Retry-After': String(seconds) },
      );
    }
  }

  /**
   * A password check outside the login (joining a further tenant, changing the password) counted
   * as a login: waits while this client must (429), then records the outcome. Otherwise such a
   * check would be a way to guess the password round the backoff.
   */
  async attempt(email: string, client: string, check: () => Promise<boolean>): Promise<boolean> {
    await this.check(email, client);
    const right = await check();
    await (right ? this.succeeded(email, client) : this.failed(email, client));
    return right;
  }

  failed(email: string, client: string, now = Date.now()): Promise<void> {
    return this.store.failed(email, client, now);
  }

  succeeded(email: string, client: string): Promise<void> {
    return this.store.succeeded(email, client);
  }
}
