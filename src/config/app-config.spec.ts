import { ConfigError, loadConfig } from './app-config';

const base = {
  DATABASE_URL: 'postgres://u@localhost:5432/db',
  JWT_SECRET: 'x'.repeat(40),
  SMTP_URL: 'smtp://127.0.0.1:1025',
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe(loadConfig.name, () => {
  it('should apply documented defaults', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({
      nodeEnv: 'production',
      port: 3000,
      bcryptCost: 12,
      bodyLimit: '64kb',
      jwt: { issuer: 'notes-service', audience: 'notes-api', ttlSeconds: 300 },
      refreshTtlSeconds: 30 * 24 * 3600,
      trustProxy: false,
    });
  });

  it('should refuse to start in production without a strong JWT_SECRET, naming the variable', () => {
    expect(problems({ ...base, JWT_SECRET: undefined })).toEqual([
      expect.stringContaining('JWT_SECRET must be set to at least 32 characters'),
    ]);
    expect(problems({ ...base, JWT_SECRET: 'short' })[0]).toContain('JWT_SECRET');
  });

  it('should generate a throwaway secret in development only when none is set', () => {
    const first = loadConfig({ ...base, NODE_ENV: 'development', JWT_SECRET: undefined });
    const second = loadConfig({ ...base, NODE_ENV: 'development', JWT_SECRET: undefined });
    expect(first.jwt.secret.length).toBeGreaterThanOrEqual(32);
    expect(first.jwt.secret).not.toBe(second.jwt.secret);
    expect(problems({ ...base, NODE_ENV: 'development', JWT_SECRET: 'weak' })[0]).toContain(
      'JWT_SECRET',
    );
  });

  it('should require DATABASE_URL to be a postgres URL', () => {
    expect(problems({ ...base, DATABASE_URL: undefined })[0]).toContain('DATABASE_URL is required');
    expect(problems({ ...base, DATABASE_URL: 'mysql://x' })[0]).toContain(
      'DATABASE_URL must start',
    );
  });

  it('should keep bcrypt cost within bounds and at least 12 in production', () => {
    expect(problems({ ...base, BCRYPT_COST: 'ten' })[0]).toContain(
      'BCRYPT_COST must be an integer',
    );
    expect(problems({ ...base, BCRYPT_COST: '3' })[0]).toContain(
      'BCRYPT_COST must be between 4 and 15',
    );
    expect(problems({ ...base, BCRYPT_COST: '10' })[0]).toContain('at least 12 in production');
    expect(loadConfig({ ...base, NODE_ENV: 'test', BCRYPT_COST: '4' }).bcryptCost).toBe(4);
  });

  it('should report every problem at once', () => {
    expect(
      problems({
        NODE_ENV: 'staging',
        PORT: '99999',
        BODY_LIMIT: 'lots',
        DB_POOL_SIZE: '0',
        SMTP_URL: base.SMTP_URL,
      }),
    ).toHaveLength(6);
  });
});

describe('operator settings', () => {
  it('should default the admin connection to DATABASE_URL', () => {
    expect(loadConfig(base).adminDatabaseUrl).toBe(base.DATABASE_URL);
    expect(
      loadConfig({ ...base, ADMIN_DATABASE_URL: 'postgres://admin@localhost/db' }).adminDatabaseUrl,
    ).toBe('postgres://admin@localhost/db');
  });

  it('should take a bootstrap operator only with both ADMIN_EMAIL and a long ADMIN_PASSWORD', () => {
    expect(
      loadConfig({
        ...base,
        ADMIN_EMAIL: ' Ops@Example.com ',
        ADMIN_PASSWORD: 'a long operator pw',
      }).bootstrapOperator,
    ).toEqual({ email: 'ops@example.com', password: 'a long operator pw' });
    expect(problems({ ...base, ADMIN_EMAIL: 'ops@example.com' })[0]).toContain(
      'ADMIN_EMAIL and ADMIN_PASSWORD must be set together',
    );
    expect(
      problems({ ...base, ADMIN_EMAIL: 'ops@example.com', ADMIN_PASSWORD: 'short' })[0],
    ).toContain('ADMIN_PASSWORD must be 12 to 72 bytes long');
    expect(
      problems({ ...base, ADMIN_EMAIL: 'nope', ADMIN_PASSWORD: 'a long operator pw' })[0],
    ).toContain('ADMIN_EMAIL must be an email address');
  });

  it.each([
    // 12 bytes as typed, 4 once NFKC folds the full-width letters: what would be hashed.
    ['\uff41\uff42\uff43\uff44', 'ADMIN_PASSWORD must be 12 to 72 bytes long'],
    // 72 bytes as typed, 288 in NFKC form: bcrypt would silently drop most of it.
    ['\u337f'.repeat(24), 'ADMIN_PASSWORD must be 12 to 72 bytes long'],
    ['OPS@example.com', 'ADMIN_PASSWORD must not be the email address'],
    ['passwordpassword', 'ADMIN_PASSWORD is one of the most common passwords; choose another'],
    ['abababababab', 'ADMIN_PASSWORD must use at least 3 different characters'],
  ])('should refuse to start with the ADMIN_PASSWORD %j, saying why', (password, message) => {
    expect(problems({ ...base, ADMIN_EMAIL: 'ops@example.com', ADMIN_PASSWORD: password })).toEqual(
      [message],
    );
  });
});

describe('the environment schema', () => {
  it('should name each variable it refuses, once', () => {
    expect(
      problems({
        ...base,
        DB_PREPARED_STATEMENTS: 'yes',
        LOG_LEVEL: 'loud',
        CORS_ORIGINS: 'ftp://files.example.com',
        WEB_CONCURRENCY: '0',
        CITUS_SHARD_TRANSFER_MODE: 'fast',
        JWT_TTL_SECONDS: '1.5',
      }).sort(),
    ).toEqual([
      'CITUS_SHARD_TRANSFER_MODE must be one of block_writes, auto, force_logical',
      'CORS_ORIGINS must be a comma-separated list like https://app.example.com',
      'DB_PREPARED_STATEMENTS must be true or false',
      'JWT_TTL_SECONDS must be an integer, got "1.5"',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      'WEB_CONCURRENCY must be between 1 and 64, got 0',
    ]);
  });

  it('should require a mail server in production only', () => {
    expect(problems({ ...base, SMTP_URL: undefined })).toEqual([
      'SMTP_URL is required in production (verification and password-reset mails)',
    ]);
    expect(loadConfig({ ...base, NODE_ENV: 'test', SMTP_URL: undefined }).mail.smtpUrl).toBe(
      undefined,
    );
  });

  describe('TRUST_PROXY', () => {
    const trustProxy = (value?: string) => loadConfig({ ...base, TRUST_PROXY: value }).trustProxy;

    it('should believe no X-Forwarded-For when unset, false or 0', () => {
      expect(trustProxy(undefined)).toBe(false);
      expect(trustProxy('false')).toBe(false);
      expect(trustProxy('0')).toBe(false);
    });

    it('should read true, a hop count and a list of addresses, ranges and range names', () => {
      expect(trustProxy('true')).toBe(true);
      expect(trustProxy('1')).toBe(1);
      expect(trustProxy(' 2 ')).toBe(2);
      expect(trustProxy('10.0.0.1, 10.0.0.0/8,fd00::/8 , ::1,loopback')).toEqual([
        '10.0.0.1',
        '10.0.0.0/8',
        'fd00::/8',
        '::1',
        'loopback',
      ]);
      expect(trustProxy('uniquelocal,linklocal,192.168.1.7/32')).toEqual([
        'uniquelocal',
        'linklocal',
        '192.168.1.7/32',
      ]);
    });

    it.each([
      ['everyone', 'everyone'],
      ['10.0.0.256', '10.0.0.256'],
      ['10.0.0.1,,10.0.0.2', ''],
      ['10.0.0.0/33', '10.0.0.0/33'],
      ['fd00::/129', 'fd00::/129'],
      ['10.0.0.0/8/1', '10.0.0.0/8/1'],
      ['10.0.0.1 10.0.0.2', '10.0.0.1 10.0.0.2'],
      ['yes', 'yes'],
    ])('should refuse %j at start, naming the variable and the bad entry', (value, bad) => {
      expect(problems({ ...base, TRUST_PROXY: value })).toEqual([
        expect.stringMatching(
          new RegExp(`^TRUST_PROXY must be true, false, a number of proxy hops.*"${bad}" is none`),
        ),
      ]);
    });

    it('should refuse an implausible hop count', () => {
      expect(problems({ ...base, TRUST_PROXY: '21' })).toEqual([
        'TRUST_PROXY must be at most 20 proxy hops, got 21',
      ]);
    });
  });

  describe('REDIS_URL', () => {
    it('should leave the rate limits in memory when unset', () => {
      expect(loadConfig(base).redis).toBeUndefined();
      expect(loadConfig({ ...base, REDIS_URL: ' ' }).redis).toBeUndefined();
      expect(loadConfig({ ...base, REDIS_COMMAND_TIMEOUT_MS: '200' }).redis).toBeUndefined();
    });

    it('should give Redis commands one second unless REDIS_COMMAND_TIMEOUT_MS says otherwise', () => {
      const url = 'redis://localhost:6379';
      expect(loadConfig({ ...base, REDIS_URL: url }).redis).toEqual({
        url,
        commandTimeoutMs: 1000,
      });
      expect(
        loadConfig({ ...base, REDIS_URL: url, REDIS_COMMAND_TIMEOUT_MS: '250' }).redis,
      ).toEqual({ url, commandTimeoutMs: 250 });
      expect(problems({ ...base, REDIS_URL: url, REDIS_COMMAND_TIMEOUT_MS: '0' })).toEqual([
        'REDIS_COMMAND_TIMEOUT_MS must be between 50 and 10000, got 0',
      ]);
    });

    it.each([
      'redis://localhost:6379',
      'redis://:secret@redis.internal:6380/2',
      'rediss://user:p%23ss@cache.example.com',
      'redis://[::1]:6379/0',
    ])('should accept %s', (url) => {
      expect(loadConfig({ ...base, REDIS_URL: url }).redis?.url).toBe(url);
    });

    it.each([
      'localhost:6379',
      'http://localhost:6379',
      'redis://',
      'redis://localhost:6379/cache',
      'redis://localhost:6379/0?tls=true',
      'redis://:pa#ss@localhost',
    ])('should refuse %s with a message naming the variable and no password', (url) => {
      const [problem, ...more] = problems({ ...base, REDIS_URL: url });
      expect(more).toEqual([]);
      expect(problem).toMatch(/^REDIS_URL must look like redis:\/\/\[user:password@\]host:port/);
      expect(problem).not.toContain('pa#ss');
    });
  });

  it('should treat blank values as unset and keep secrets byte for byte', () => {
    const config = loadConfig({ ...base, PORT: '  ', JWT_SECRET: ` ${'y'.repeat(40)} ` });
    expect(config.port).toBe(3000);
    expect(config.jwt.secret).toBe(` ${'y'.repeat(40)} `);
  });
});
