import { Test } from '@nestjs/testing';
import { HttpAdapterHost } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { AuthenticatedOperator } from '../access/principal';
import { AppConfig, loadConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { CitusDetector } from '../database/citus';
import { CitusWorkersIndicator } from './citus-workers.indicator';
import { HealthController } from './health.controller';
import { ReadinessService } from './readiness';
import { OverloadMonitor, OverloadReason } from '../http/overload';
import { ShutdownState } from '../http/shutdown-state';

function fakeResponse(): FastifyReply & { statusCode: number } {
  const response = { statusCode: 200 } as FastifyReply & { statusCode: number };
  response.status = jest.fn((code: number) => {
    response.statusCode = code;
    return response;
  });
  response.header = jest.fn(() => response);
  return response;
}

/** A DataSource whose answers depend on the SQL, like the real one. */
function database(answers: {
  ping?: () => Promise<unknown>;
  workers?: Array<{ nodename: string; nodeport: number; success: boolean }>;
}): DataSource {
  return {
    options: { type: 'postgres' },
    query: jest.fn((sql: string) => {
      if (sql === 'SELECT 1') return (answers.ping ?? (() => Promise.resolve([{}])))();
      if (sql.includes('run_command_on_workers')) return Promise.resolve(answers.workers ?? []);
      return Promise.reject(new Error(`unexpected SQL ${sql}`));
    }),
  } as unknown as DataSource;
}

const config: AppConfig = loadConfig({
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u@localhost/db',
  SHUTDOWN_DELAY_MS: '0',
});

/** Load shedding's answer, as the tests set it. */
const overload = { reason: (): OverloadReason | undefined => undefined, retryAfterSeconds: 3 };

async function controllerFor(dataSource: DataSource, citus = false) {
  const moduleRef = await Test.createTestingModule({
    imports: [TerminusModule.forRoot({ logger: false })],
    controllers: [HealthController],
    providers: [
      ShutdownState,
      CitusWorkersIndicator,
      { provide: APP_CONFIG, useValue: config },
      { provide: OverloadMonitor, useValue: overload },
      // No HTTP server here: the early answer is the e2e specs' to check.
      { provide: HttpAdapterHost, useValue: {} },
      ReadinessService,
      { provide: DataSource, useValue: dataSource },
      {
        provide: CitusDetector,
        useFactory: () => {
          const detector = new CitusDetector(dataSource);
          detector.installed = () => Promise.resolve(citus);
          return detector;
        },
      },
    ],
  }).compile();
  return { controller: moduleRef.get(HealthController), shutdown: moduleRef.get(ShutdownState) };
}

const OPERATOR: AuthenticatedOperator = { kind: 'operator', operatorId: '1', sessionId: 's' };

describe(HealthController.name, () => {
  it('should report ready when the database answers', async () => {
    const { controller } = await controllerFor(database({}));
    const response = fakeResponse();
    await expect(controller.ready(response, OPERATOR)).resolves.toEqual({
      status: 'ok',
      database: 'up',
    });
    expect(response.statusCode).toBe(200);
  });

  it('should answer 503 when the database fails', async () => {
    const { controller } = await controllerFor(
      database({ ping: () => Promise.reject(new Error('connection refused')) }),
    );
    const response = fakeResponse();
    await expect(controller.ready(response, OPERATOR)).resolves.toEqual({
      status: 'unavailable',
      database: 'down',
    });
    expect(response.statusCode).toBe(503);
  });

  it('should answer 503 when the database hangs instead of hanging with it', async () => {
    const { controller } = await controllerFor(
      database({ ping: () => new Promise(() => undefined) }),
    );
    jest.useFakeTimers();
    try {
      const response = fakeResponse();
      const pending = controller.ready(response, OPERATOR);
      await jest.advanceTimersByTimeAsync(2_500);
      await expect(pending).resolves.toMatchObject({ database: 'down' });
      expect(response.statusCode).toBe(503);
    } finally {
      jest.useRealTimers();
    }
  });

  it('should stay ready but degraded, naming the worker, when one is unreachable', async () => {
    const workers = [
      { nodename: 'w1', nodeport: 5432, success: true },
      { nodename: 'w2', nodeport: 5432, success: false },
    ];
    const { controller } = await controllerFor(database({ workers }), true);
    const response = fakeResponse();
    await expect(controller.ready(response, OPERATOR)).resolves.toEqual({
      status: 'degraded',
      database: 'up',
      workers: [
        { host: 'w1', port: 5432, reachable: true },
        { host: 'w2', port: 5432, reachable: false },
      ],
    });
    // Tenants on w1 are still served: a load balancer must keep the instance.
    expect(response.statusCode).toBe(200);
  });

  it('should tell anyone without an operator token the status only', async () => {
    const workers = [
      { nodename: 'w1', nodeport: 5432, success: true },
      { nodename: 'w2', nodeport: 5432, success: false },
    ];
    const { controller } = await controllerFor(database({ workers }), true);
    const response = fakeResponse();
    await expect(controller.ready(response)).resolves.toEqual({ status: 'degraded' });
    expect(response.header).toHaveBeenCalledWith('Cache-Control', 'no-store');
    const healthy = await controllerFor(database({}));
    await expect(healthy.controller.ready(fakeResponse())).resolves.toEqual({ status: 'ok' });
  });

  it('should probe the database at most once per interval, whoever and however many ask', async () => {
    const db = database({});
    const { controller } = await controllerFor(db);
    const probes = () =>
      (db.query as jest.Mock).mock.calls.filter(([sql]) => sql === 'SELECT 1').length;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        controller.ready(fakeResponse(), i % 2 ? OPERATOR : undefined),
      ),
    );
    expect(answers.filter((answer) => answer.status === 'ok')).toHaveLength(20);
    expect(probes()).toBe(1);
    await controller.ready(fakeResponse());
    expect(probes()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, config.readyCacheMs + 20));
    await controller.ready(fakeResponse());
    expect(probes()).toBe(2);
  });

  it('should answer 503 overloaded, with Retry-After, while the instance sheds load', async () => {
    const { controller } = await controllerFor(database({}));
    overload.reason = () => 'pool';
    try {
      const response = fakeResponse();
      await expect(controller.ready(response)).resolves.toEqual({ status: 'overloaded' });
      expect(response.statusCode).toBe(503);
      expect(response.header).toHaveBeenCalledWith('Retry-After', '3');
    } finally {
      overload.reason = () => undefined;
    }
  });

  it('should turn unready as soon as shutdown begins, while liveness stays ok', async () => {
    const { controller, shutdown } = await controllerFor(database({}));
    shutdown.begin();
    const response = fakeResponse();
    await expect(controller.ready(response, OPERATOR)).resolves.toMatchObject({
      status: 'shutting_down',
    });
    expect(response.statusCode).toBe(503);
    expect(controller.live()).toEqual({ status: 'ok' });
  });
});
