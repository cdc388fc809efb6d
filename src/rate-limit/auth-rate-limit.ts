import { ExecutionContext, Injectable, Module } from '@nestjs/common';
import {
  ThrottlerGuard,
  ThrottlerModule,
  ThrottlerModuleOptions,
  ThrottlerStorage,
} from '@nestjs/throttler';
import { ThrottlerLimitDetail } from '@nestjs/throttler/dist/throttler.guard.interface';
import { FastifyReply as Response } from 'fastify';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { normalizeEmail } from '../credentials/email';
import { AppError } from '../errors/app-error';
import { clientOf } from './client-address';
import { LoginBackoff } from './login-backoff';
import { RateLimitStoresModule, THROTTLER_STORAGE } from './rate-limit-stores';

/** The email a login or registration is for, normalised as the service stores it. */
function emailOf(req: Record<string, unknown>): string | undefined {
  const body = req.body as { email?: unknown } | undefined;
  return typeof body?.email === 'string' ? normalizeEmail(body.email) : undefined;
}

function ipOf(req: Record<string, unknown>): string {
  return clientOf(typeof req.ip === 'string' ? req.ip : undefined);
}

/**
 * Two budgets for the credential endpoints: per client IP (one address hammering many accounts)
 * and per email and client (one client hammering one account). The email budget is the client's
 * own, never the address's: counted before a request is validated, a budget for the address alone
 * would let a stranger's invalid requests keep its owner at 429 from any other client. Guessing
 * an account's password from many clients meets LoginBackoff instead, and mails to the address
 * their own budget (EmailTokensService).
 */
export function authRateLimitOptions(
  config: AppConfig,
  storage?: ThrottlerStorage,
): ThrottlerModuleOptions {
  const ttl = config.rateLimit.windowSeconds * 1000;
  return {
    storage,
    throttlers: [
      { name: 'ip', ttl, limit: config.rateLimit.perIp, getTracker: ipOf },
      {
        name: 'email',
        ttl,
        limit: config.rateLimit.perEmail,
        // Without an email there is nothing to count per account; the IP budget still applies.
        getTracker: (req) => `email:${emailOf(req) ?? ''}|ip:${ipOf(req)}`,
      },
    ],
  };
}

@Injectable()
export class AuthRateLimitGuard extends ThrottlerGuard {
  protected override throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const retryAfter = Math.max(1, Math.ceil(detail.timeToBlockExpire || detail.timeToExpire));
    context.switchToHttp().getResponse<Response>().header('Retry-After', String(retryAfter));
    return Promise.reject(
      new AppError('TOO_MANY_REQUESTS', `Too many attempts; retry in ${retryAfter} s`),
    );
  }
}

/** The credential routes' guard and the login backoff, counting where RateLimitStoresModule says. */
@Module({
  imports: [
    RateLimitStoresModule,
    ThrottlerModule.forRootAsync({
      imports: [RateLimitStoresModule],
      inject: [APP_CONFIG, THROTTLER_STORAGE],
      useFactory: authRateLimitOptions,
    }),
  ],
  providers: [AuthRateLimitGuard, LoginBackoff],
  exports: [AuthRateLimitGuard, ThrottlerModule, LoginBackoff],
})
export class AuthRateLimitModule {}
