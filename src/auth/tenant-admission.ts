import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance } from 'fastify';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TenantBudget } from '../rate-limit/tenant-budget';
import { TokenService } from './token.service';

const BEARER = /^Bearer (\S+)$/i;

/**
 * Each tenant's fair share (TenantBudget), taken in the request's first hook: as soon as a valid
 * tenant token says who asks, before the body is read, routed to Nest or checked by the guard,
 * so a tenant over its share costs the service next to nothing, and never a database connection.
 * The place is given back when the answer is sent (or the client goes). Requests without a valid
 * tenant token are left to the guard, which refuses or admits them as before.
 */
@Injectable()
export class TenantAdmission implements OnModuleInit {
  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly tokens: TokenService,
    private readonly budget: TenantBudget,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const instance = this.adapter.httpAdapter?.getInstance<FastifyInstance>();
    if (!instance || typeof instance.addHook !== 'function') return;
    instance.addHook('onRequest', async (request, reply) => {
      const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
      const principal = token ? this.tokens.principalOf(token) : undefined;
      if (principal?.kind !== 'user') return;
      const admitted = await this.budget.admit(principal.tenantId);
      if (admitted.refused) {
        // Held, not processed: a client looping on its refusals waits instead of spinning.
        await sleep(this.config.refusalDelayMs);
        throw admitted.refused;
      }
      reply.raw.once('close', admitted.release);
    });
  }
}
