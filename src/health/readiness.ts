import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { FastifyInstance } from 'fastify';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { OverloadMonitor } from '../http/overload';
import { ShutdownState } from '../http/shutdown-state';
import { CitusWorkersIndicator, WorkerHealth } from './citus-workers.indicator';

const READY_TIMEOUT_MS = 2_000;

export interface Probe {
  status: 'ok' | 'degraded' | 'unavailable';
  database: 'up' | 'down';
  workers?: WorkerHealth[];
}

export interface Readiness {
  status: 'ok' | 'degraded' | 'unavailable' | 'overloaded' | 'shutting_down';
  /** The parts, for operators only: worker hosts and ports are nobody else's business. */
  database?: 'up' | 'down';
  workers?: WorkerHealth[];
}

/**
 * Whether this instance should get traffic. Anyone may ask (load balancers do, often), so it must
 * stay cheap: the database and worker probe runs at most once per READY_CACHE_MS for every caller
 * together, one at a time, and every caller in that interval gets its answer. Callers without a
 * token are answered in the request's first hook, before routing, guards or body handling
 * (`answerEarly`); an operator's call goes through the controller for the details.
 */
@Injectable()
export class ReadinessService implements OnModuleInit {
  private probe?: { at: number; result: Promise<Probe> };
  /** Anonymous readiness calls per client address in the current second. */
  private readonly callers = new Map<string, number>();
  private window = 0;

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly workers: CitusWorkersIndicator,
    private readonly shutdown: ShutdownState,
    private readonly overload: OverloadMonitor,
    private readonly adapter: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const instance = this.adapter.httpAdapter?.getInstance<FastifyInstance>();
    if (instance && typeof instance.addHook === 'function') this.answerEarly(instance);
  }

  /** The status (and HTTP status) now, with the parts an operator may see. */
  async current(): Promise<{ httpStatus: number; answer: Readiness; probe?: Probe }> {
    if (this.shutdown.shuttingDown) {
      return { httpStatus: 503, answer: { status: 'shutting_down' } };
    }
    // Overload as the request found it, not after the probe's wait.
    const overloaded = this.overload.reason() !== undefined;
    const probe = await this.latestProbe();
    const status = overloaded && probe.status !== 'unavailable' ? 'overloaded' : probe.status;
    const httpStatus = status === 'unavailable' || status === 'overloaded' ? 503 : 200;
    return { httpStatus, answer: { status }, probe };
  }

  get retryAfterSeconds(): number {
    return this.overload.retryAfterSeconds;
  }

  /** Liveness and anonymous readiness, answered before anything else a request costs. */
  private answerEarly(instance: FastifyInstance): void {
    instance.addHook('onRequest', (request, reply, done) => {
      if (request.method !== 'GET' || request.headers.authorization) return done();
      const path = request.url.split('?')[0].replace(/\/$/, '');
      if (path === '/health') {
        void reply.header('cache-control', 'no-store').send({ status: 'ok' });
        return;
      }
      if (path !== '/health/ready') return done();
      const paced = this.overRate(request.ip) ? sleep(this.config.refusalDelayMs) : undefined;
      Promise.all([this.current(), paced])
        .then(([now]) => now)
        .then(
          ({ httpStatus, answer }) => {
            void reply.code(httpStatus).header('cache-control', 'no-store');
            if (answer.status === 'overloaded') {
              void reply.header('retry-after', String(this.retryAfterSeconds));
            }
            void reply.send(answer);
          },
          (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
        );
    });
  }

  /**
   * Whether `address` asked more than READY_RATE_PER_ADDRESS times this second: its answer is then
   * held for REFUSAL_DELAY_MS (the same answer, later), so a client polling in a loop cannot take
   * the CPU the tenants' requests need; a load balancer's probes come far less often.
   */
  private overRate(address: string): boolean {
    const limit = this.config.readyRatePerAddress;
    if (limit <= 0) return false;
    const window = Math.floor(Date.now() / 1000);
    if (window !== this.window) {
      this.window = window;
      this.callers.clear();
    }
    const count = (this.callers.get(address) ?? 0) + 1;
    this.callers.set(address, count);
    return count > limit;
  }

  private latestProbe(): Promise<Probe> {
    const now = Date.now();
    if (!this.probe || now - this.probe.at >= this.config.readyCacheMs) {
      this.probe = { at: now, result: this.runProbe() };
    }
    return this.probe.result;
  }

  private async runProbe(): Promise<Probe> {
    const result = await this.health
      .check([
        () => this.database.pingCheck('database', { timeout: READY_TIMEOUT_MS }),
        () => this.workers.check('workers', READY_TIMEOUT_MS),
      ])
      .catch((error: unknown) => {
        // Terminus reports a failed check as a 503 carrying the same result.
        if (error instanceof ServiceUnavailableException) {
          return error.getResponse() as HealthCheckResult;
        }
        throw error;
      });
    const database = result.details.database?.status === 'up' ? 'up' : 'down';
    const workers = result.details.workers?.workers as WorkerHealth[] | undefined;
    const status = database === 'down' ? 'unavailable' : result.status === 'ok' ? 'ok' : 'degraded';
    return { status, database, workers };
  }
}
