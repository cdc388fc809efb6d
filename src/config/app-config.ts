import { randomBytes } from 'node:crypto';
import { EMAIL_SHAPE, normalizeEmail } from '../credentials/email';
import { operatorPasswordProblem } from '../credentials/password-policy';
import { Env, NODE_ENVS, readEnvironment, SHARD_TRANSFER_MODES } from './environment';

export type NodeEnv = (typeof NODE_ENVS)[number];
export type ShardTransferMode = (typeof SHARD_TRANSFER_MODES)[number];
export type TrustProxy = boolean | number | string[];
export { SHARD_TRANSFER_MODES };

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
  jwt: { secret: string; issuer: string; audience: string; ttlSeconds: number };
  /** Lifetime of a login's refresh tokens (each use rotates them). */
  refreshTtlSeconds: number;
  /**
   * How long one instance trusts its last look at a session and its member's role: an ended
   * session, a removed or demoted member lose their rights on every instance within this.
   */
  accessRecheckMs: number;
  /**
   * When a reset or a new confirmation mail is answered (ACCOUNT_ANSWER_MS): the same time
   * whether or not the email has an account; longer than the work, mail hand-off included.
   */
  accountAnswerMs: number;
  /** Hosts the operators may add as Citus workers (CITUS_WORKER_HOSTS); empty: any. */
  citusWorkerHosts: string[];
  /** How long a refresh token just exchanged still gets the same answer (a client's retry). */
  refreshRetryGraceSeconds: number;
  /** Outgoing mail (verification, password reset); without SMTP_URL mails are not sent. */
  mail: { smtpUrl?: string; from: string };
  /**
   * Which X-Forwarded-For entries to believe for the client address (Fastify's trustProxy):
   * false believes none, a number that many hops, a list the entries added by those proxies.
   */
  trustProxy: TrustProxy;
  /**
   * Where the rate-limit counters and the login backoff live, shared by every process and
   * instance, and how long a command may take before the process counts in memory instead;
   * without REDIS_URL: in each process's memory.
   */
  redis?: { url: string; commandTimeoutMs: number };
  bcryptCost: number;
  bodyLimit: string;
  database: {
    statementTimeoutMs: number;
    connectTimeoutMs: number;
    /** Hot-path statements as named prepared statements (off behind transaction poolers). */
    preparedStatements: boolean;
    /**
     * Each request's statements carry its id in application_name (database/statement-tags.ts):
     * one more round trip per request, off unless asked for.
     */
    requestIds: boolean;
  };
  /** Processes serving HTTP (node:cluster); 1 runs the server in this process. */
  webConcurrency: number;
  log: { level: string; pretty: boolean };
  rateLimit: { windowSeconds: number; perIp: number; perEmail: number };
  /** Origins allowed to call the API from a browser; empty: no CORS headers at all. */
  corsOrigins: string[];
  /** Swagger UI and the OpenAPI documents (tenant API at /docs, operator API at /admin-docs). */
  swagger: boolean;
  shutdown: { delayMs: number; timeoutMs: number };
  /** How Citus copies shards for tenant isolation, moves and rebalancing. */
  shardTransferMode: ShardTransferMode;
  /** How long one readiness answer is shared by every caller (0: computed per call). */
  readyCacheMs: number;
  /**
   * Load shedding: while the event loop lags more than `eventLoopLagMs`, or more than
   * `poolWaiting` requests wait for a database connection, new requests are answered 503
   * OVERLOADED at once with Retry-After `retryAfterSeconds` (0 turns a check off).
   */
  overload: {
    eventLoopLagMs: number;
    poolWaiting: number;
    maxInFlight: number;
    retryAfterSeconds: number;
  };
  /**
   * Each tenant's share of the service: requests per second (a second's worth may come at once)
   * and requests in flight (each holds database work); beyond either, 429 TENANT_RATE_LIMITED.
   * 0 turns a budget off.
   */
  tenantLimits: { requestsPerSecond: number; concurrent: number };
  /**
   * How long a refusal for being over a share is held before it is sent (a tenant's budget, or
   * anonymous readiness beyond READY_RATE_PER_ADDRESS a second from one address): a client that
   * honours Retry-After loses nothing, one that retries at once in a loop is slowed to a few
   * requests a second per connection, which cost no CPU while they wait. 0 answers at once.
   */
  refusalDelayMs: number;
  /** Anonymous readiness calls a second from one client address answered at once. */
  readyRatePerAddress: number;
  /** Prometheus metrics, served on a port of their own (never on the API's). */
  metrics: { enabled: boolean; port: number; host: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const MIN_SECRET_LENGTH = 32;
// Production keeps a floor that makes offline guessing expensive; tests may go down to 4.
const BCRYPT_MIN_PRODUCTION_COST = 12;

/**
 * A Redis command without an answer within this time fails, and its caller counts in memory (see
 * rate-limit/redis-fallback.ts); REDIS_COMMAND_TIMEOUT_MS changes it. Redis answers in well under
 * a millisecond on a healthy network, so this bounds how long a frozen Redis can hold a request;
 * it is not tighter so that a busy process (event-loop lag) does not fall back for nothing.
 */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 1_000;

/**
 * The typed configuration from the environment, checked against the schema in environment.ts
 * plus the rules that tie variables together. Every problem is collected so an operator fixes
 * them in one pass; each message names its variable.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const { values: e, problems } = readEnvironment(env);
  const int = (value: string | undefined, fallback: number) =>
    value === undefined ? fallback : Number(value);
  const nodeEnv = (NODE_ENVS as readonly string[]).includes(e.NODE_ENV ?? 'production')
    ? ((e.NODE_ENV ?? 'production') as NodeEnv)
    : 'production';
  const relaxed = nodeEnv !== 'production';

  let secret = e.JWT_SECRET ?? '';
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

  const bcryptCost = Number(e.BCRYPT_COST ?? 12);
  if (!relaxed && bcryptCost < BCRYPT_MIN_PRODUCTION_COST) {
    problems.push(`BCRYPT_COST must be at least ${BCRYPT_MIN_PRODUCTION_COST} in production`);
  }

  let bootstrapOperator: AppConfig['bootstrapOperator'];
  const adminEmail = normalizeEmail(e.ADMIN_EMAIL ?? '');
  const adminPassword = e.ADMIN_PASSWORD ?? '';
  if (adminEmail || adminPassword) {
    // The same rules as the operator CLI: the NFKC length, not the email, not a common password.
    const refused = operatorPasswordProblem(adminPassword, adminEmail, 'ADMIN_PASSWORD');
    if (!adminEmail || !adminPassword) {
      problems.push('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
    } else if (!EMAIL_SHAPE.test(adminEmail)) {
      problems.push('ADMIN_EMAIL must be an email address');
    } else if (refused) {
      problems.push(refused);
    } else {
      bootstrapOperator = { email: adminEmail, password: adminPassword };
    }
  }
  if (!relaxed && !e.SMTP_URL) {
    problems.push('SMTP_URL is required in production (verification and password-reset mails)');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const databaseUrl = e.DATABASE_URL;
  const databasePoolSize = int(e.DB_POOL_SIZE, 10);
  return {
    nodeEnv,
    port: int(e.PORT, 3000),
    host: e.HOST ?? '0.0.0.0',
    databaseUrl,
    databasePoolSize,
    adminDatabaseUrl: e.ADMIN_DATABASE_URL ?? databaseUrl,
    bootstrapOperator,
    jwt: {
      secret,
      issuer: e.JWT_ISSUER ?? 'notes-service',
      audience: e.JWT_AUDIENCE ?? 'notes-api',
      ttlSeconds: int(e.JWT_TTL_SECONDS, 300),
    },
    refreshTtlSeconds: int(e.REFRESH_TTL_SECONDS, 30 * 24 * 3600),
    accessRecheckMs: int(e.ACCESS_RECHECK_MS, 1000),
    accountAnswerMs: int(e.ACCOUNT_ANSWER_MS, 250),
    citusWorkerHosts: (e.CITUS_WORKER_HOSTS ?? '')
      .split(',')
      .map((host) => host.trim().toLowerCase())
      .filter(Boolean),
    refreshRetryGraceSeconds: int(e.REFRESH_RETRY_GRACE_SECONDS, 10),
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM ?? 'Notes <no-reply@localhost>' },
    trustProxy: trustProxy(e.TRUST_PROXY),
    redis: e.REDIS_URL
      ? {
          url: e.REDIS_URL,
          commandTimeoutMs: int(e.REDIS_COMMAND_TIMEOUT_MS, DEFAULT_REDIS_COMMAND_TIMEOUT_MS),
        }
      : undefined,
    bcryptCost,
    bodyLimit: e.BODY_LIMIT ?? '64kb',
    database: {
      statementTimeoutMs: int(e.DB_STATEMENT_TIMEOUT_MS, 15_000),
      connectTimeoutMs: int(e.DB_CONNECT_TIMEOUT_MS, 5_000),
      preparedStatements: e.DB_PREPARED_STATEMENTS !== 'false',
      requestIds: e.DB_REQUEST_IDS === 'true',
    },
    webConcurrency: int(e.WEB_CONCURRENCY, 1),
    log: {
      level: e.LOG_LEVEL ?? 'info',
      pretty: (e.LOG_PRETTY ?? String(nodeEnv === 'development')) === 'true',
    },
    rateLimit: {
      windowSeconds: int(e.AUTH_RATE_WINDOW_SECONDS, 60),
      perIp: int(e.AUTH_RATE_LIMIT_PER_IP, 30),
      perEmail: int(e.AUTH_RATE_LIMIT_PER_EMAIL, 10),
    },
    corsOrigins: (e.CORS_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    swagger: e.SWAGGER_ENABLED !== 'false',
    shutdown: {
      delayMs: int(e.SHUTDOWN_DELAY_MS, nodeEnv === 'production' ? 5_000 : 0),
      timeoutMs: int(e.SHUTDOWN_TIMEOUT_MS, 30_000),
    },
    shardTransferMode: (e.CITUS_SHARD_TRANSFER_MODE ?? 'auto') as ShardTransferMode,
    readyCacheMs: int(e.READY_CACHE_MS, 1_000),
    overload: {
      eventLoopLagMs: int(e.SHED_EVENT_LOOP_LAG_MS, 200),
      poolWaiting: int(e.SHED_POOL_WAITING, 4 * databasePoolSize),
      // Enough for the pool and a queue of four requests per connection behind it: a served
      // request waits behind at most that many others.
      maxInFlight: int(e.SHED_MAX_IN_FLIGHT, 5 * databasePoolSize),
      retryAfterSeconds: int(e.SHED_RETRY_AFTER_SECONDS, 1),
    },
    tenantLimits: {
      requestsPerSecond: int(e.TENANT_RATE_LIMIT_PER_SECOND, 2_000),
      // Half the pool: one tenant's flood leaves the other half to everyone else.
      concurrent: int(e.TENANT_CONCURRENCY, Math.max(2, Math.ceil(databasePoolSize / 2))),
    },
    refusalDelayMs: int(e.REFUSAL_DELAY_MS, 250),
    readyRatePerAddress: int(e.READY_RATE_PER_ADDRESS, 20),
    metrics: {
      enabled: e.METRICS_ENABLED !== 'false',
      port: int(e.METRICS_PORT, 9464),
      host: e.METRICS_HOST ?? '127.0.0.1',
    },
  };
}

/** TRUST_PROXY, already checked by the schema, in the shape Fastify's trustProxy takes. */
function trustProxy(raw: string | undefined): TrustProxy {
  if (raw === undefined || raw === 'false' || raw === '0') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw.split(',').map((entry) => entry.trim());
}

/** Only what the migration CLI needs: it runs without the service's secrets. */
export function loadDatabaseUrl(env: Env = process.env): string {
  const { values, problems } = readEnvironment(env);
  const own = problems.filter((problem) => problem.startsWith('DATABASE_URL'));
  if (own.length > 0) throw new ConfigError(own);
  return values.DATABASE_URL;
}
