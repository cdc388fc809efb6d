import { AppConfig, loadConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { LoginBackoff } from './login-backoff';

const config: AppConfig = loadConfig({
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u@localhost/db',
  BCRYPT_COST: '4',
  AUTH_RATE_LIMIT_PER_EMAIL: '4',
});
/** Failures a client may have for one email before it must wait. */
const N = config.rateLimit.perEmail;
const EMAIL = 'alice@example.com';
const T0 = Date.UTC(2030, 0, 1);

/** The error `check` throws, or undefined when the client may try. */
function refusal(backoff: LoginBackoff, client: string, now: number, email = EMAIL) {
  try {
    backoff.check(email, client, now);
    return undefined;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
}

const retryAfter = (error: AppError | undefined) => error?.headers?.['Retry-After'];

describe(LoginBackoff.name, () => {
  let backoff: LoginBackoff;

  beforeEach(() => {
    backoff = new LoginBackoff(config);
  });

  const fail = (times: number, client = 'A', now = T0, email = EMAIL) => {
    for (let i = 0; i < times; i += 1) backoff.failed(email, client, now);
  };

  it('should take the number of free failures from AUTH_RATE_LIMIT_PER_EMAIL', () => {
    const two = new LoginBackoff(
      loadConfig({
        NODE_ENV: 'test',
        DATABASE_URL: 'postgres://u@localhost/db',
        AUTH_RATE_LIMIT_PER_EMAIL: '2',
      }),
    );
    two.failed(EMAIL, 'A', T0);
    two.failed(EMAIL, 'A', T0);
    fail(2);
    expect(refusal(two, 'A', T0)).toBeDefined();
    expect(refusal(backoff, 'A', T0)).toBeUndefined();
  });

  it('should let a client try again after fewer than N failures', () => {
    fail(N - 1);
    expect(refusal(backoff, 'A', T0)).toBeUndefined();
  });

  it('should block the client at its Nth failure with TOO_MANY_REQUESTS and Retry-After', () => {
    fail(N);
    const error = refusal(backoff, 'A', T0);
    expect(error).toBeInstanceOf(AppError);
    expect(error?.code).toBe('TOO_MANY_REQUESTS');
    expect(error?.status).toBe(429);
    expect(retryAfter(error)).toBe('1');
  });

  it('should not block another client that has no failures for that email', () => {
    fail(N);
    expect(refusal(backoff, 'A', T0)).toBeDefined();
    expect(refusal(backoff, 'B', T0)).toBeUndefined();
  });

  it('should not block the client for another email', () => {
    fail(N);
    expect(refusal(backoff, 'A', T0, 'bob@example.com')).toBeUndefined();
  });

  it('should let the client try again once its wait is over', () => {
    fail(N);
    expect(refusal(backoff, 'A', T0 + 999)).toBeDefined();
    expect(refusal(backoff, 'A', T0 + 1000)).toBeUndefined();
  });

  it('should double the wait at every further failure', () => {
    fail(N);
    const waits: Array<string | undefined> = [retryAfter(refusal(backoff, 'A', T0))];
    let now = T0;
    for (let i = 0; i < 4; i += 1) {
      now += Number(waits[waits.length - 1]) * 1000;
      expect(refusal(backoff, 'A', now)).toBeUndefined();
      backoff.failed(EMAIL, 'A', now);
      waits.push(retryAfter(refusal(backoff, 'A', now)));
    }
    expect(waits).toEqual(['1', '2', '4', '8', '16']);
  });

  it('should cap the wait at 15 minutes', () => {
    fail(N + 30);
    expect(retryAfter(refusal(backoff, 'A', T0))).toBe('900');
  });

  it('should count down Retry-After as the wait runs', () => {
    fail(N + 3);
    expect(retryAfter(refusal(backoff, 'A', T0))).toBe('8');
    expect(retryAfter(refusal(backoff, 'A', T0 + 5500))).toBe('3');
  });

  it("should clear the client's failures on success", () => {
    fail(N);
    backoff.succeeded(EMAIL, 'A');
    expect(refusal(backoff, 'A', T0)).toBeUndefined();
    fail(N - 1);
    expect(refusal(backoff, 'A', T0)).toBeUndefined();
  });

  it("should not clear other clients' failures on one client's success", () => {
    fail(N, 'A');
    backoff.succeeded(EMAIL, 'B');
    expect(refusal(backoff, 'A', T0)).toBeDefined();
  });

  it('should remember failures through 60 quiet minutes', () => {
    fail(N - 1);
    const hour = T0 + 60 * 60_000;
    backoff.failed(EMAIL, 'A', hour);
    expect(refusal(backoff, 'A', hour)).toBeDefined();
  });

  it('should forget failures after 60 quiet minutes', () => {
    fail(N - 1);
    const later = T0 + 60 * 60_000 + 1;
    backoff.failed(EMAIL, 'A', later);
    expect(refusal(backoff, 'A', later)).toBeUndefined();
  });

  it('should count the quiet hour from the end of the wait, not from the last failure', () => {
    fail(N + 30);
    const waitOver = T0 + 15 * 60_000;
    // An hour after the last failure, but only 45 minutes after the wait ended: remembered.
    const hour = T0 + 60 * 60_000 + 1;
    backoff.failed(EMAIL, 'A', hour);
    expect(retryAfter(refusal(backoff, 'A', hour))).toBe('900');

    const other = new LoginBackoff(config);
    for (let i = 0; i < N + 30; i += 1) other.failed(EMAIL, 'A', T0);
    const forgotten = waitOver + 60 * 60_000 + 1;
    other.failed(EMAIL, 'A', forgotten);
    expect(refusal(other, 'A', forgotten)).toBeUndefined();
  });

  it('should keep a client at the 15-minute cap there when it retries right after its wait', () => {
    fail(N + 30);
    let now = T0;
    for (let i = 0; i < 4; i += 1) {
      expect(retryAfter(refusal(backoff, 'A', now))).toBe('900');
      now += 15 * 60_000 + 1;
      expect(refusal(backoff, 'A', now)).toBeUndefined();
      backoff.failed(EMAIL, 'A', now);
      // No fresh set of free tries: one more failure and it waits the whole 15 minutes again.
      expect(retryAfter(refusal(backoff, 'A', now))).toBe('900');
    }
  });

  it('should make every failing client wait from its first failure when one email is under a spread-out attack', () => {
    for (let client = 0; client <= 5 * N; client += 1) fail(1, `attacker-${client}`);
    fail(1, 'newcomer');
    expect(retryAfter(refusal(backoff, 'newcomer', T0))).toBe('1');
    expect(refusal(backoff, 'owner', T0)).toBeUndefined();
  });

  it('should leave free tries to every client while the email has few failures overall', () => {
    for (let client = 0; client < 5 * N - 1; client += 1) fail(1, `client-${client}`);
    fail(1, 'newcomer');
    expect(refusal(backoff, 'newcomer', T0)).toBeUndefined();
  });
});
