import {
  bearer,
  createTestApp,
  describeRedis,
  Http,
  operatorToken,
  redisUrl,
  register,
  useTestApp,
} from './harness/e2e';
import { holdNote } from './harness/traffic';

/** One tenant over its share is refused at once; the others keep being served. */
describe('A fair share per tenant (e2e)', () => {
  describe('requests a second', () => {
    const ctx = useTestApp({ TENANT_RATE_LIMIT_PER_SECOND: '5', TENANT_CONCURRENCY: '0' });
    const http = (): Http => ctx.http();

    it('should answer 429 TENANT_RATE_LIMITED with Retry-After past the share, for that tenant only', async () => {
      const noisy = await register(http);
      const quiet = await register(http);
      // 20 at once span at most two one-second windows: at most 10 are admitted.
      const answers = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const started = Date.now();
          const response = await http()
            .get('/api/v1/notes')
            .set(...bearer(noisy.token));
          return Object.assign(response, { ms: Date.now() - started });
        }),
      );
      const refused = answers.filter((answer) => answer.status === 429);
      // Refusals are held REFUSAL_DELAY_MS, so a client retrying in a loop cannot spin.
      expect(refused.every((answer) => answer.ms >= 190)).toBe(true);
      expect(refused.length).toBeGreaterThanOrEqual(10);
      expect(answers.every((answer) => [200, 429].includes(answer.status))).toBe(true);
      expect(refused[0].body).toMatchObject({
        statusCode: 429,
        code: 'TENANT_RATE_LIMITED',
        limit: 'rate',
      });
      expect(Number(refused[0].headers['retry-after'])).toBeGreaterThanOrEqual(1);
      await http()
        .get('/api/v1/notes')
        .set(...bearer(quiet.token))
        .expect(200);

      // Operators see who was limited, by name; the quiet tenant is not there.
      const operator = await operatorToken(http);
      const limited = await http()
        .get('/api/v1/admin/limited-tenants')
        .set(...bearer(operator))
        .expect(200);
      expect(limited.body.items).toEqual([
        {
          tenantId: noisy.tenant.id,
          tenantName: noisy.tenant.name,
          limit: 'rate',
          at: expect.any(String),
        },
      ]);
      // Not for tenants' eyes.
      await http()
        .get('/api/v1/admin/limited-tenants')
        .set(...bearer(quiet.token))
        .expect(403);
    });
  });

  describe('requests in progress', () => {
    const ctx = useTestApp({ TENANT_RATE_LIMIT_PER_SECOND: '0', TENANT_CONCURRENCY: '2' });
    const http = (): Http => ctx.http();

    it('should refuse a third request in progress at once, serve another tenant, and admit again once one ends', async () => {
      const noisy = await register(http);
      const quiet = await register(http);
      const note = await http()
        .post('/api/v1/notes')
        .set(...bearer(noisy.token))
        .send({ content: 'locked' })
        .expect(201);
      // Two edits wait on a row lock taken from outside: two requests in progress.
      const held = await holdNote(noisy.tenant.id, note.body.id);
      try {
        const edits = [1, 2].map((n) =>
          http()
            .patch(`/api/v1/notes/${note.body.id}`)
            .set(...bearer(noisy.token))
            .send({ content: `edit ${n}` })
            .then((response) => response.status),
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
        // Refused while the two still wait: not queued behind them.
        const third = await http()
          .get('/api/v1/notes')
          .set(...bearer(noisy.token))
          .expect(429);
        expect(third.body).toMatchObject({ code: 'TENANT_RATE_LIMITED', limit: 'concurrency' });
        await http()
          .get('/api/v1/notes')
          .set(...bearer(quiet.token))
          .expect(200);
        await held.release();
        await expect(Promise.all(edits)).resolves.toEqual([200, 200]);
      } finally {
        await held.release();
      }
      await http()
        .get('/api/v1/notes')
        .set(...bearer(noisy.token))
        .expect(200);
    });
  });

  describeRedis('[redis] shared by every instance', () => {
    const env = {
      REDIS_URL: redisUrl ?? '',
      TENANT_RATE_LIMIT_PER_SECOND: '5',
      TENANT_CONCURRENCY: '0',
    };
    let apps: Array<Awaited<ReturnType<typeof createTestApp>>> = [];
    beforeAll(async () => {
      apps = [await createTestApp(env), await createTestApp(env)];
    });
    afterAll(async () => {
      for (const { app } of apps) await app.close();
    });

    it('[redis] should count one tenant’s requests on two instances together', async () => {
      const noisy = await register(apps[0].http);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          apps[i % 2]
            .http()
            .get('/api/v1/notes')
            .set(...bearer(noisy.token)),
        ),
      );
      // Each instance alone would admit up to 10 of its 10; together at most 10 of 20.
      expect(answers.filter((answer) => answer.status === 200).length).toBeLessThanOrEqual(10);
      expect(answers.filter((answer) => answer.status === 429).length).toBeGreaterThanOrEqual(10);
      const operator = await operatorToken(apps[1].http);
      const limited = await apps[1]
        .http()
        .get('/api/v1/admin/limited-tenants')
        .set(...bearer(operator))
        .expect(200);
      expect(limited.body.items.map((item: { tenantId: string }) => item.tenantId)).toContain(
        noisy.tenant.id,
      );
    });
  });
});
