import { FastifyReply as Response } from 'fastify';
import { DataSource } from 'typeorm';
import { HealthController } from './health.controller';
import { ShutdownState } from './shutdown-state';

function fakeResponse(): Response & { statusCode: number } {
  const response = { statusCode: 200 } as Response & { statusCode: number };
  response.status = jest.fn((code: number) => {
    response.statusCode = code;
    return response;
  });
  return response;
}

/** A DataSource whose answers depend on the SQL, like the real one. */
function database(answers: {
  ping?: () => Promise<unknown>;
  citus?: boolean;
  workers?: Array<{ nodename: string; nodeport: number; success: boolean }>;
}): DataSource {
  return {
    query: jest.fn((sql: string) => {
      if (sql === 'SELECT 1') return (answers.ping ?? (() => Promise.resolve([{}])))();
      if (sql.includes('pg_extension')) return Promise.resolve(answers.citus ? [{}] : []);
      if (sql.includes('run_command_on_workers')) return Promise.resolve(answers.workers ?? []);
      return Promise.reject(new Error(`unexpected SQL ${sql}`));
    }),
  } as unknown as DataSource;
}

describe(HealthController.name, () => {
  it('should report ready when the database answers', async () => {
    const controller = new HealthController(database({}), new ShutdownState());
    const response = fakeResponse();
    await expect(controller.ready(response)).resolves.toEqual({ status: 'ok', database: 'up' });
    expect(response.statusCode).toBe(200);
  });

  it('should answer 503 when the database fails', async () => {
    const controller = new HealthController(
      database({ ping: () => Promise.reject(new Error('connection refused')) }),
      new ShutdownState(),
    );
    const response = fakeResponse();
    await expect(controller.ready(response)).resolves.toEqual({
      status: 'unavailable',
      database: 'down',
    });
    expect(response.statusCode).toBe(503);
  });

  it('should answer 503 when the database hangs instead of hanging with it', async () => {
    jest.useFakeTimers();
    try {
      const controller = new HealthController(
        database({ ping: () => new Promise(() => undefined) }),
        new ShutdownState(),
      );
      const response = fakeResponse();
      const pending = controller.ready(response);
      await jest.advanceTimersByTimeAsync(2_500);
      await expect(pending).resolves.toMatchObject({ database: 'down' });
      expect(response.statusCode).toBe(503);
    } finally {
      jest.useRealTimers();
    }
  });

  it('should list Citus workers and answer 503 when one is unreachable', async () => {
    const workers = [
      { nodename: 'w1', nodeport: 5432, success: true },
      { nodename: 'w2', nodeport: 5432, success: false },
    ];
    const controller = new HealthController(
      database({ citus: true, workers }),
      new ShutdownState(),
    );
    const response = fakeResponse();
    await expect(controller.ready(response)).resolves.toEqual({
      status: 'unavailable',
      database: 'up',
      workers: [
        { host: 'w1', port: 5432, reachable: true },
        { host: 'w2', port: 5432, reachable: false },
      ],
    });
    expect(response.statusCode).toBe(503);
  });

  it('should turn unready as soon as shutdown begins, while liveness stays ok', async () => {
    const shutdown = new ShutdownState();
    const controller = new HealthController(database({}), shutdown);
    shutdown.begin();
    const response = fakeResponse();
    await expect(controller.ready(response)).resolves.toMatchObject({ status: 'shutting_down' });
    expect(response.statusCode).toBe(503);
    expect(controller.live()).toEqual({ status: 'ok' });
  });
});
