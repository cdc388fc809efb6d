/**
 * Every expected failure of the domain carries a stable code; the global exception filter maps the
 * code to an HTTP status, so services never think in HTTP.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  TOKEN_INVALID: 400,
  INVALID_CREDENTIALS: 401,
  UNAUTHENTICATED: 401,
  SESSION_REVOKED: 401,
  FORBIDDEN: 403,
  INVITATION_INVALID: 403,
  EMAIL_NOT_VERIFIED: 403,
  NOTE_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  TENANT_NOT_FOUND: 404,
  NODE_NOT_FOUND: 404,
  TENANT_NAME_TAKEN: 409,
  EMAIL_TAKEN: 409,
  USERNAME_TAKEN: 409,
  TENANT_CHOICE_REQUIRED: 409,
  ACCOUNT_EXISTS: 409,
  LAST_OWNER: 409,
  OPERATOR_EXISTS: 409,
  CITUS_REQUIRED: 409,
  ALREADY_ISOLATED: 409,
  REBALANCE_RUNNING: 409,
  OPERATION_RUNNING: 409,
  NOT_A_WORKER: 409,
  NO_TARGET_NODE: 409,
  NODE_NOT_EMPTY: 409,
  ASYNCHRONOUS_COMMITS: 409,
  NODE_UNREACHABLE: 422,
  NODE_REJECTED: 422,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  TENANT_RATE_LIMITED: 429,
  REQUEST_TIMEOUT: 408,
  HEADERS_TOO_LARGE: 431,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNSUPPORTED_CONTENT_ENCODING: 415,
  NODE_UNAVAILABLE: 503,
  DATABASE_UNAVAILABLE: 503,
  OVERLOADED: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra fields a client needs to act on the error (e.g. which tenants to choose from). */
    readonly details?: Record<string, unknown>,
    /** Response headers that belong to the error (e.g. Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Passport hands errors over as `unknown`; rethrow them as real errors, untouched when they are. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
