import { AppError } from '../errors/app-error';
import { MetricsService } from '../metrics/metrics.service';
import { LoginBackoff } from './login-backoff';
import { MemoryLoginBackoffStore } from './login-backoff-store';

/** Failures a client may have for one email before it must wait. */
const N = 4;
const EMAIL = 'alice@example.com';
const T0 = Date.UTC(2030, 0, 1);

/** The error `check` rejects with, or undefined when the client may try. */
async function refusal(
  backoff: LoginBackoff,
  client: string,
  now: number,
): Promise<AppError | undefined> {
  try {
    await backoff.check(EMAIL, client, now);
    return undefined;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
}

const retryAfter = (error: AppError | undefined) => error?.headers?.['Retry-After'];

// The rules themselves (who waits how long) are the stores' and are in login-backoff-store.spec.ts.
describe(LoginBackoff.name, () => {
  let backoff: LoginBackoff;

  beforeEach(() => {
    backoff = new LoginBackoff(new MemoryLoginBackoffStore(N));
  });

  const fail = async (times: number, client = 'A', now = T0) => {
    for (let i = 0; i < times; i += 1) await backoff.failed(EMAIL, client, now);
  };

  it('should let a client try while its store says it need not wait', async () => {
    await fail(N - 1);
    await expect(refusal(backoff, 'A', T0)).resolves.toBeUndefined();
  });

  it('should refuse a waiting client with TOO_MANY_REQUESTS (429) and Retry-After', async () => {
    await fail(N);
    const error = await refusal(backoff, 'A', T0);
    expect(error).toBeInstanceOf(AppError);
    expect(error?.code).toBe('TOO_MANY_REQUESTS');
    expect(error?.status).toBe(429);
    expect(retryAfter(error)).toBe('1');
    await expect(refusal(backoff, 'B', T0)).resolves.toBeUndefined();
  });

  it('should count Retry-After down in whole seconds, rounding up', async () => {
    await fail(N + 3);
    expect(retryAfter(await refusal(backoff, 'A', T0))).toBe('8');
    expect(retryAfter(await refusal(backoff, 'A', T0 + 5500))).toBe('3');
    expect(retryAfter(await refusal(backoff, 'A', T0 + 7999))).toBe('1');
    await expect(refusal(backoff, 'A', T0 + 8000)).resolves.toBeUndefined();
  });

  it('should count every refusal in login_backoff_total, and nothing else', async () => {
    const metrics = { loginBackoff: jest.fn() };
    backoff = new LoginBackoff(
      new MemoryLoginBackoffStore(N),
      metrics as unknown as MetricsService,
    );
    await fail(N);
    await refusal(backoff, 'A', T0);
    await refusal(backoff, 'A', T0);
    await refusal(backoff, 'B', T0);
    expect(metrics.loginBackoff).toHaveBeenCalledTimes(2);
  });

  it("should clear the client's failures on success", async () => {
    await fail(N);
    await backoff.succeeded(EMAIL, 'A');
    await expect(refusal(backoff, 'A', T0)).resolves.toBeUndefined();
  });
});

describe('LoginBackoff.attempt', () => {
  it('should record a wrong password as a failure, a right one as a success, and run none while waiting', async () => {
    const backoff = new LoginBackoff(new MemoryLoginBackoffStore(N));
    const wrong = jest.fn(() => Promise.resolve(false));
    for (let i = 0; i < N; i += 1) {
      await expect(backoff.attempt(EMAIL, 'a', wrong)).resolves.toBe(false);
    }
    const right = jest.fn(() => Promise.resolve(true));
    await expect(backoff.attempt(EMAIL, 'a', right)).rejects.toMatchObject({
      code: 'TOO_MANY_REQUESTS',
    });
    expect(right).not.toHaveBeenCalled();
    // Another client is not held up, and its success clears only its own failures.
    await expect(backoff.attempt(EMAIL, 'b', wrong)).resolves.toBe(false);
    await expect(backoff.attempt(EMAIL, 'b', right)).resolves.toBe(true);
    await expect(refusal(backoff, 'b', Date.now())).resolves.toBeUndefined();
    await expect(refusal(backoff, 'a', Date.now())).resolves.toBeDefined();
  });
});
