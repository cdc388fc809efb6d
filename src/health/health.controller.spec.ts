import { Response } from 'express';
import { DataSource } from 'typeorm';
import { HealthController } from './health.controller';

function fakeResponse(): Response & { statusCode: number } {
  const response = { statusCode: 200 } as Response & { statusCode: number };
  response.status = jest.fn((code: number) => {
    response.statusCode = code;
    return response;
  });
  return response;
}

describe(HealthController.name, () => {
  it('should report ready when the database answers', async () => {
    const controller = new HealthController({
      query: jest.fn().mockResolvedValue([{ '?column?': 1 }]),
    } as unknown as DataSource);
    const response = fakeResponse();
    await expect(controller.ready(response)).resolves.toEqual({ status: 'ok', database: 'up' });
    expect(response.statusCode).toBe(200);
  });

  it('should answer 503 when the database fails', async () => {
    const controller = new HealthController({
      query: jest.fn().mockRejectedValue(new Error('connection refused')),
    } as unknown as DataSource);
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
      const controller = new HealthController({
        query: jest.fn(() => new Promise(() => undefined)),
      } as unknown as DataSource);
      const response = fakeResponse();
      const pending = controller.ready(response);
      await jest.advanceTimersByTimeAsync(2_500);
      await expect(pending).resolves.toMatchObject({ database: 'down' });
      expect(response.statusCode).toBe(503);
    } finally {
      jest.useRealTimers();
    }
  });
});
