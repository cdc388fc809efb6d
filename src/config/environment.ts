import { isIP } from 'node:net';
import { plainToInstance } from 'class-transformer';
import {
  getMetadataStorage,
  IsIn,
  IsNotEmpty,
  IsOptional,
  Matches,
  validateSync,
  ValidateBy,
  ValidationOptions,
} from 'class-validator';

export const NODE_ENVS = ['development', 'test', 'production'] as const;
export const SHARD_TRANSFER_MODES = ['block_writes', 'auto', 'force_logical'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const POSTGRES_URL = /^postgres(ql)?:\/\//;

/** An optional whole number within bounds; the message names the variable and what it got. */
function IntegerSetting(min: number, max: number, options?: ValidationOptions) {
  const integer = (value: unknown) => /^\d+$/.test(String(value).trim());
  return ValidateBy(
    {
      name: 'integerSetting',
      validator: {
        validate: (value: unknown) =>
          integer(value) && Number(value) >= min && Number(value) <= max,
        defaultMessage: (args) =>
          integer(args?.value)
            ? `${args?.property} must be between ${min} and ${max}, got ${Number(args?.value)}`
            : `${args?.property} must be an integer, got "${String(args?.value)}"`,
      },
    },
    options,
  );
}

/** Names proxy-addr (Fastify's trustProxy) knows for whole address ranges. */
export const TRUST_PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'] as const;
export const MAX_TRUST_PROXY_HOPS = 20;

/** The entry of a TRUST_PROXY list that is not an address, a CIDR range or a range name. */
function badProxyEntry(entry: string): string | undefined {
  if ((TRUST_PROXY_RANGES as readonly string[]).includes(entry)) return undefined;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return entry;
  if (prefix === undefined) return undefined;
  const bits = family === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= bits ? undefined : entry;
}

/**
 * Why a TRUST_PROXY value is refused, or undefined when it is good: `true`, `false`, a hop count,
 * or a comma-separated list of proxy addresses, CIDR ranges and range names. Checked here so a
 * typo stops the boot with a message naming the variable, not deep inside Fastify (or, worse,
 * silently trusting nothing).
 */
export function trustProxyProblem(raw: string): string | undefined {
  if (raw === 'true' || raw === 'false') return undefined;
  if (/^\d+$/.test(raw)) {
    return Number(raw) <= MAX_TRUST_PROXY_HOPS
      ? undefined
      : `TRUST_PROXY must be at most ${MAX_TRUST_PROXY_HOPS} proxy hops, got ${raw}`;
  }
  const bad = raw
    .split(',')
    .map((entry) => entry.trim())
    .find((entry) => badProxyEntry(entry) !== undefined);
  if (bad === undefined) return undefined;
  return (
    'TRUST_PROXY must be true, false, a number of proxy hops (1 behind one load balancer), or a ' +
    'comma-separated list of proxy addresses, CIDR ranges (10.0.0.0/8) or loopback, linklocal, ' +
    `uniquelocal; "${bad}" is none of these`
  );
}

function TrustProxySetting() {
  return ValidateBy({
    name: 'trustProxySetting',
    validator: {
      validate: (value: unknown) => trustProxyProblem(String(value)) === undefined,
      defaultMessage: (args) => trustProxyProblem(String(args?.value)) ?? '',
    },
  });
}

/**
 * redis://[user:password@]host[:port][/db], or rediss:// for TLS. The URL is parsed the way
 * ioredis will parse it, so what passes here is what the service connects to.
 */
export function redisUrlProblem(raw: string): string | undefined {
  const shape =
    'REDIS_URL must look like redis://[user:password@]host:port[/db] (rediss:// for TLS)';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return shape;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return shape;
  if (url.hostname === '' || url.search !== '' || url.hash !== '') return shape;
  if (!/^(\/(\d{1,2})?)?$/.test(url.pathname)) return `${shape}; the database is a number`;
  return undefined;
}

function RedisUrlSetting() {
  return ValidateBy({
    name: 'redisUrlSetting',
    validator: {
      validate: (value: unknown) => redisUrlProblem(String(value)) === undefined,
      defaultMessage: (args) => redisUrlProblem(String(args?.value)) ?? '',
    },
  });
}

/**
 * Every variable the service reads, with its rule. Values are the raw strings of the
 * environment; app-config.ts turns them into the typed configuration with defaults.
 * Blank values count as unset.
 */
export class Environment {
  @IsOptional()
  @IsIn(NODE_ENVS, { message: `NODE_ENV must be one of ${NODE_ENVS.join(', ')}` })
  NODE_ENV?: string;

  // class-validator checks the lowest decorator first: "required" before "well formed".
  @Matches(POSTGRES_URL, { message: 'DATABASE_URL must start with postgres:// or postgresql://' })
  @IsNotEmpty({ message: 'DATABASE_URL is required (postgres://user:password@host:port/database)' })
  DATABASE_URL!: string;

  @IsOptional()
  @Matches(POSTGRES_URL, {
    message: 'ADMIN_DATABASE_URL must start with postgres:// or postgresql://',
  })
  ADMIN_DATABASE_URL?: string;

  @IsOptional() @IntegerSetting(1, 65535) PORT?: string;
  @IsOptional() HOST?: string;
  @IsOptional() @IntegerSetting(1, 64) WEB_CONCURRENCY?: string;
  @IsOptional() @IntegerSetting(1, 200) DB_POOL_SIZE?: string;
  @IsOptional() @IntegerSetting(0, 3_600_000) DB_STATEMENT_TIMEOUT_MS?: string;
  @IsOptional() @IntegerSetting(100, 120_000) DB_CONNECT_TIMEOUT_MS?: string;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'DB_PREPARED_STATEMENTS must be true or false' })
  DB_PREPARED_STATEMENTS?: string;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'DB_REQUEST_IDS must be true or false' })
  DB_REQUEST_IDS?: string;

  @IsOptional() JWT_SECRET?: string;
  @IsOptional() JWT_ISSUER?: string;
  @IsOptional() JWT_AUDIENCE?: string;
  @IsOptional() @IntegerSetting(60, 3600) JWT_TTL_SECONDS?: string;
  @IsOptional() @IntegerSetting(3600, 90 * 24 * 3600) REFRESH_TTL_SECONDS?: string;
  @IsOptional() @IntegerSetting(0, 60_000) ACCESS_RECHECK_MS?: string;
  @IsOptional() @IntegerSetting(0, 10_000) ACCOUNT_ANSWER_MS?: string;
  @IsOptional()
  @Matches(/^[\w.:-]+(\s*,\s*[\w.:-]+)*$/, {
    message: 'CITUS_WORKER_HOSTS must be a comma-separated list of host names or IP addresses',
  })
  CITUS_WORKER_HOSTS?: string;
  @IsOptional() @IntegerSetting(0, 300) REFRESH_RETRY_GRACE_SECONDS?: string;
  @IsOptional() @IntegerSetting(4, 15) BCRYPT_COST?: string;

  @IsOptional()
  @Matches(/^\d+(b|kb|mb)$/i, { message: 'BODY_LIMIT must look like 64kb or 1mb' })
  BODY_LIMIT?: string;

  @IsOptional() ADMIN_EMAIL?: string;
  @IsOptional() ADMIN_PASSWORD?: string;

  @IsOptional()
  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL?: string;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'LOG_PRETTY must be true or false' })
  LOG_PRETTY?: string;

  @IsOptional() @IntegerSetting(1, 86_400) AUTH_RATE_WINDOW_SECONDS?: string;
  @IsOptional() @IntegerSetting(1, 1_000_000) AUTH_RATE_LIMIT_PER_IP?: string;
  @IsOptional() @IntegerSetting(1, 1_000_000) AUTH_RATE_LIMIT_PER_EMAIL?: string;

  @IsOptional()
  @Matches(/^(https?:\/\/[^/\s,]+)(\s*,\s*https?:\/\/[^/\s,]+)*$/, {
    message: 'CORS_ORIGINS must be a comma-separated list like https://app.example.com',
  })
  CORS_ORIGINS?: string;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'SWAGGER_ENABLED must be true or false' })
  SWAGGER_ENABLED?: string;

  @IsOptional()
  @Matches(/^smtps?:\/\/[^\s]+$/, { message: 'SMTP_URL must look like smtp://host:port' })
  SMTP_URL?: string;

  @IsOptional()
  @Matches(/^([^<>]*<)?[^\s@<>]+@[^\s@<>]+>?$/, {
    message: 'MAIL_FROM must be an address, optionally with a name: Notes <no-reply@example.com>',
  })
  MAIL_FROM?: string;

  @IsOptional() @TrustProxySetting() TRUST_PROXY?: string;
  @IsOptional() @RedisUrlSetting() REDIS_URL?: string;
  @IsOptional() @IntegerSetting(50, 10_000) REDIS_COMMAND_TIMEOUT_MS?: string;

  @IsOptional() @IntegerSetting(0, 120_000) SHUTDOWN_DELAY_MS?: string;
  @IsOptional() @IntegerSetting(1_000, 600_000) SHUTDOWN_TIMEOUT_MS?: string;

  @IsOptional() @IntegerSetting(0, 60_000) READY_CACHE_MS?: string;
  @IsOptional() @IntegerSetting(0, 60_000) SHED_EVENT_LOOP_LAG_MS?: string;
  @IsOptional() @IntegerSetting(0, 100_000) SHED_POOL_WAITING?: string;
  @IsOptional() @IntegerSetting(0, 100_000) SHED_MAX_IN_FLIGHT?: string;
  @IsOptional() @IntegerSetting(1, 3_600) SHED_RETRY_AFTER_SECONDS?: string;
  @IsOptional() @IntegerSetting(0, 1_000_000) TENANT_RATE_LIMIT_PER_SECOND?: string;
  @IsOptional() @IntegerSetting(0, 10_000) TENANT_CONCURRENCY?: string;
  @IsOptional() @IntegerSetting(0, 10_000) REFUSAL_DELAY_MS?: string;
  @IsOptional() @IntegerSetting(0, 1_000_000) READY_RATE_PER_ADDRESS?: string;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'METRICS_ENABLED must be true or false' })
  METRICS_ENABLED?: string;

  @IsOptional() @IntegerSetting(1, 65535) METRICS_PORT?: string;
  @IsOptional() METRICS_HOST?: string;

  @IsOptional()
  @IsIn(SHARD_TRANSFER_MODES, {
    message: `CITUS_SHARD_TRANSFER_MODE must be one of ${SHARD_TRANSFER_MODES.join(', ')}`,
  })
  CITUS_SHARD_TRANSFER_MODE?: string;
}

export type Env = Record<string, string | undefined>;

const UNTRIMMED = new Set(['JWT_SECRET', 'ADMIN_PASSWORD']);

/** The environment checked against the schema: the values (blank ones dropped) and every problem. */
export function readEnvironment(env: Env): { values: Environment; problems: string[] } {
  const present = Object.fromEntries(
    Object.entries(env)
      // Secrets are taken byte for byte; everything else is trimmed.
      .map(([name, value]) => [name, UNTRIMMED.has(name) ? value : value?.trim()])
      .filter(([, value]) => value !== undefined && value !== ''),
  ) as Record<string, string>;
  const values = plainToInstance(Environment, present);
  const problems = validateSync(values, { stopAtFirstError: true }).flatMap((error) =>
    Object.values(error.constraints ?? {}),
  );
  return { values, problems };
}

/** The names of every variable the schema knows. */
export function environmentVariables(): string[] {
  const rules = getMetadataStorage().getTargetValidationMetadatas(Environment, '', true, false);
  return [...new Set(rules.map((rule) => rule.propertyName))];
}
