/**
 * What the API answers on failure: `{statusCode, code, message, ...}` (README, "Errors"), turned
 * into sentences a person can act on. Every code the service can answer has one (errors.spec.ts
 * holds this list against src/errors/app-error.ts).
 */
export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  errors?: string[];
  tenants?: { id: string; name: string }[];
}

export const ERROR_MESSAGES: Record<string, string> = {
  VALIDATION_FAILED: 'Please check what you entered.',
  TOKEN_INVALID: 'That token is wrong, already used or expired: ask for a new one.',
  INVALID_CREDENTIALS: 'Wrong email or password.',
  UNAUTHENTICATED: 'Your session has ended: please log in again.',
  SESSION_REVOKED:
    'Your session was ended for safety (the same sign-in was used twice, for example from a copied tab): please log in again.',
  FORBIDDEN: 'You do not have the rights to do that.',
  INVITATION_INVALID: 'That invitation code is wrong, already used or expired.',
  EMAIL_NOT_VERIFIED:
    'Confirm your email first (with the token we mailed you) before joining another organisation.',
  NOTE_NOT_FOUND: 'That note no longer exists: it may have been deleted.',
  USER_NOT_FOUND: 'That member is no longer in the organisation.',
  TENANT_NOT_FOUND: 'That organisation no longer exists.',
  NODE_NOT_FOUND: 'That node is no longer in the cluster.',
  NOT_FOUND: 'The service does not know this address.',
  TENANT_NAME_TAKEN:
    'An organisation with this name (or one that looks the same) already exists. To join it, ask one of its owners for an invitation code.',
  EMAIL_TAKEN: 'This email is already a member of that organisation: log in instead.',
  USERNAME_TAKEN: 'That username (or one that looks the same) is taken in this organisation.',
  TENANT_CHOICE_REQUIRED: 'Your email is in several organisations: choose one.',
  ACCOUNT_EXISTS:
    'This email already has an account: use its password (the one you log in with) to join.',
  LAST_OWNER: 'The organisation must keep at least one owner.',
  OPERATOR_EXISTS: 'An operator with this email already exists.',
  CITUS_REQUIRED: 'This needs a Citus cluster; the database is a plain PostgreSQL.',
  ALREADY_ISOLATED: 'This tenant already has a shard of its own.',
  REBALANCE_RUNNING: 'A rebalance is already running: wait for it to finish.',
  OPERATION_RUNNING: 'Another operator action is starting: try again in a moment.',
  NOT_A_WORKER: 'Only worker nodes can do that, not the coordinator.',
  NO_TARGET_NODE: 'No other worker takes shards, so there is nowhere to move them.',
  NODE_NOT_EMPTY: 'The node still holds shards: drain it first.',
  NODE_UNREACHABLE: 'The coordinator cannot connect to that node.',
  NODE_REJECTED: 'Citus refused the node.',
  ASYNCHRONOUS_COMMITS:
    'A logical shard move could lose acknowledged writes on this cluster, so it was not started.',
  PAYLOAD_TOO_LARGE: 'That is too long to save.',
  TOO_MANY_REQUESTS: 'Too many attempts.',
  TENANT_RATE_LIMITED: 'Your organisation is sending more requests than its share right now.',
  REQUEST_TIMEOUT: 'The request took too long: please try again.',
  HEADERS_TOO_LARGE: 'The request was too large: please log in again.',
  UNSUPPORTED_MEDIA_TYPE: 'The service refused the request format.',
  UNSUPPORTED_CONTENT_ENCODING: 'The service refused the request format.',
  NODE_UNAVAILABLE:
    'Part of the database is unavailable right now: your data is safe, try again in a few seconds.',
  DATABASE_UNAVAILABLE: 'The database is unavailable right now: try again in a few seconds.',
  OVERLOADED: 'The service is busier than it can be right now.',
  INTERNAL_ERROR: 'Something went wrong on the server: please try again.',
  NETWORK: 'The service cannot be reached: check your connection and try again.',
};

/** Codes whose API message names the field or the reason, so it is shown as well. */
const DETAILED = new Set([
  'VALIDATION_FAILED',
  'NODE_REJECTED',
  'NODE_NOT_EMPTY',
  'CITUS_REQUIRED',
  'ASYNCHRONOUS_COMMITS',
]);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    /** Seconds, from Retry-After. */
    readonly retryAfter?: number,
  ) {
    super(body.message);
    this.name = 'ApiError';
  }

  get code(): string {
    return this.body.code;
  }

  static async from(response: Response, parsed?: unknown): Promise<ApiError> {
    let body = parsed;
    if (body === undefined) body = await response.json().catch(() => undefined);
    const known =
      typeof body === 'object' && body !== null && typeof (body as ErrorBody).code === 'string';
    const retry = Number(response.headers.get('retry-after'));
    return new ApiError(
      response.status,
      known
        ? (body as ErrorBody)
        : { statusCode: response.status, code: 'INTERNAL_ERROR', message: response.statusText },
      Number.isFinite(retry) && retry > 0 ? retry : undefined,
    );
  }

  static network(): ApiError {
    return new ApiError(0, { statusCode: 0, code: 'NETWORK', message: 'fetch failed' });
  }
}

/** One sentence (or two) for a person: what went wrong and, where the API says it, exactly what. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) return ERROR_MESSAGES.INTERNAL_ERROR;
  const base = ERROR_MESSAGES[error.code] ?? `The service refused: ${error.body.message}`;
  const parts = [base];
  if (DETAILED.has(error.code)) {
    const details = error.body.errors?.length ? error.body.errors : [error.body.message];
    parts.push(
      details.map((detail) => `${detail.charAt(0).toUpperCase()}${detail.slice(1)}.`).join(' '),
    );
  }
  if (error.retryAfter && (error.status === 429 || error.status === 503)) {
    parts.push(`Wait ${error.retryAfter} s, then try again.`);
  }
  return parts.join(' ');
}
