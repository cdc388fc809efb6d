import { randomBytes } from 'node:crypto';

export type NodeEnv = 'development' | 'test' | 'production';

export const SHARD_TRANSFER_MODES = ['block_writes', 'auto', 'force_logical'] as const;
export type ShardTransferMode = (typeof SHARD_TRANSFER_MODES)[number];

export interface AppConfig {
  nodeEnv: NodeEnv;
  port: number;
  /** Interface to listen on: every IPv4 interface unless HOST says otherwise. */
  host: string;
  databaseUrl: string;
  databasePoolSize: number;
  /** Connection for the operator endpoints, whose cluster-wide queries span every shard. */
  adminDatabaseUrl: string;
  /** First operator, created at start-up when both are set and no operator exists yet. */
  bootstrapOperator?: { email: string; password: string };
  jwt: {
    secret: string;
    issuer: string;
    audience: string;
    ttlSeconds: number;
  };
  bcryptCost: number;
  bodyLimit: string;
  database: {
    statementTimeoutMs: number;
    connectTimeoutMs: number;
    /** Hot-path statements as named prepared statements (off behind transaction poolers). */
    preparedStatements: boolean;
  };
  /** Processes serving HTTP (node:cluster); 1 runs the server in this process. */
  webConcurrency: number;
  log: { level: string; pretty: boolean };
  rateLimit: { windowSeconds: number; perIp: number; perEmail: number };
  /** Origins allowed to call the API from a browser; empty: no CORS headers at all. */
  corsOrigins: string[];
  shutdown: { delayMs: number; timeoutMs: number };
  /** How Citus copies shards for tenant isolation, moves and rebalancing. */
  shardTransferMode: ShardTransferMode;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const MIN_SECRET_LENGTH = 32;
const BCRYPT_MIN_COST = 4;
const BCRYPT_MAX_COST = 15;
// Production keeps a floor that makes offline guessing expensive; tests may go down to 4.
const BCRYPT_MIN_PRODUCTION_COST = 12;
export const MIN_OPERATOR_PASSWORD = 12;
/** A deliberately loose shape check for emails given in the environment or on a command line. */
export const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function readInt(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) {
    problems.push(`${name} must be an integer, got "${raw}"`);
    return fallback;
  }
  const value = Number(raw);
  if (value < min || value > max) {
    problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
    return fallback;
  }
  return value;
}

function readString(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim();
  return raw ? raw : fallback;
}

/**
 * Reads and validates the process environment once, at boot. Every problem is collected so an
 * operator fixes them in one pass; the message always names the variable.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];

  const rawEnv = readString(env, 'NODE_ENV', 'production');
  let nodeEnv: NodeEnv = 'production';
  if (rawEnv === 'development' || rawEnv === 'test' || rawEnv === 'production') {
    nodeEnv = rawEnv;
  } else {
    problems.push(`NODE_ENV must be one of development, test, production, got "${rawEnv}"`);
  }
  const relaxed = nodeEnv !== 'production';

  const databaseUrl = env.DATABASE_URL?.trim() ?? '';
  if (!databaseUrl) {
    problems.push('DATABASE_URL is required (postgres://user:password@host:port/database)');
  } else if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must start with postgres:// or postgresql://');
  }

  let secret = env.JWT_SECRET ?? '';
  if (secret.length < MIN_SECRET_LENGTH) {
    if (relaxed && secret === '') {
      // A throwaway secret keeps development friction-free; tokens die with the process.
      secret = randomBytes(48).toString('base64url');
    } else {
      problems.push(
        `JWT_SECRET must be set to at least ${MIN_SECRET_LENGTH} characters` +
          (relaxed ? '' : ' (required outside development and test)'),
      );
    }
  }

  const bcryptCost = readInt(env, 'BCRYPT_COST', 12, BCRYPT_MIN_COST, BCRYPT_MAX_COST, problems);
  if (!relaxed && bcryptCost < BCRYPT_MIN_PRODUCTION_COST) {
    problems.push(`BCRYPT_COST must be at least ${BCRYPT_MIN_PRODUCTION_COST} in production`);
  }

  const bodyLimit = readString(env, 'BODY_LIMIT', '64kb');
  if (!/^\d+(b|kb|mb)$/i.test(bodyLimit)) {
    problems.push(`BODY_LIMIT must look like 64kb or 1mb, got "${bodyLimit}"`);
  }

  const adminDatabaseUrl = env.ADMIN_DATABASE_URL?.trim() || databaseUrl;
  if (!/^postgres(ql)?:\/\//.test(adminDatabaseUrl) && adminDatabaseUrl !== databaseUrl) {
    problems.push('ADMIN_DATABASE_URL must start with postgres:// or postgresql://');
  }

  const adminEmail = env.ADMIN_EMAIL?.trim().toLowerCase() ?? '';
  const adminPassword = env.ADMIN_PASSWORD ?? '';
  let bootstrapOperator: AppConfig['bootstrapOperator'];
  if (adminEmail || adminPassword) {
    if (!adminEmail || !adminPassword) {
      problems.push('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
    } else if (!EMAIL_SHAPE.test(adminEmail)) {
      problems.push('ADMIN_EMAIL must be an email address');
    } else if (
      Buffer.byteLength(adminPassword) < MIN_OPERATOR_PASSWORD ||
      Buffer.byteLength(adminPassword) > 72
    ) {
      problems.push(`ADMIN_PASSWORD must be ${MIN_OPERATOR_PASSWORD} to 72 bytes long`);
    } else {
      bootstrapOperator = { email: adminEmail, password: adminPassword };
    }
  }

  const logLevel = readString(env, 'LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  const prettyRaw = readString(env, 'LOG_PRETTY', nodeEnv === 'development' ? 'true' : 'false');
  if (!['true', 'false'].includes(prettyRaw)) problems.push('LOG_PRETTY must be true or false');

  const preparedRaw = readString(env, 'DB_PREPARED_STATEMENTS', 'true');
  if (!['true', 'false'].includes(preparedRaw)) {
    problems.push('DB_PREPARED_STATEMENTS must be true or false');
  }

  const corsOrigins = (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push(`CORS_ORIGINS entries must look like https://app.example.com, got "${origin}"`);
    }
  }

  const transferMode = readString(env, 'CITUS_SHARD_TRANSFER_MODE', 'block_writes');
  if (!(SHARD_TRANSFER_MODES as readonly string[]).includes(transferMode)) {
    problems.push(
      `CITUS_SHARD_TRANSFER_MODE must be one of ${SHARD_TRANSFER_MODES.join(', ')}, got "${transferMode}"`,
    );
  }

  const config: AppConfig = {
    nodeEnv,
    port: readInt(env, 'PORT', 3000, 1, 65535, problems),
    host: readString(env, 'HOST', '0.0.0.0'),
    databaseUrl,
    databasePoolSize: readInt(env, 'DB_POOL_SIZE', 10, 1, 200, problems),
    adminDatabaseUrl,
    bootstrapOperator,
    jwt: {
      secret,
      issuer: readString(env, 'JWT_ISSUER', 'notes-service'),
      audience: readString(env, 'JWT_AUDIENCE', 'notes-api'),
      ttlSeconds: readInt(env, 'JWT_TTL_SECONDS', 3600, 60, 7 * 24 * 3600, problems),
    },
    bcryptCost,
    bodyLimit,
    database: {
      statementTimeoutMs: readInt(env, 'DB_STATEMENT_TIMEOUT_MS', 15_000, 0, 3_600_000, problems),
      connectTimeoutMs: readInt(env, 'DB_CONNECT_TIMEOUT_MS', 5_000, 100, 120_000, problems),
      preparedStatements: preparedRaw !== 'false',
    },
    webConcurrency: readInt(env, 'WEB_CONCURRENCY', 1, 1, 64, problems),
    log: { level: logLevel, pretty: prettyRaw === 'true' },
    rateLimit: {
      windowSeconds: readInt(env, 'AUTH_RATE_WINDOW_SECONDS', 60, 1, 86_400, problems),
      perIp: readInt(env, 'AUTH_RATE_LIMIT_PER_IP', 30, 1, 1_000_000, problems),
      perEmail: readInt(env, 'AUTH_RATE_LIMIT_PER_EMAIL', 10, 1, 1_000_000, problems),
    },
    corsOrigins,
    shardTransferMode: transferMode as ShardTransferMode,
    shutdown: {
      delayMs: readInt(
        env,
        'SHUTDOWN_DELAY_MS',
        nodeEnv === 'production' ? 5_000 : 0,
        0,
        120_000,
        problems,
      ),
      timeoutMs: readInt(env, 'SHUTDOWN_TIMEOUT_MS', 30_000, 1_000, 600_000, problems),
    },
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
