import { Actor } from './cases';
import { HttpResponse } from './http-client';
import { Operation } from './openapi-model';

/**
 * What identifies tenant B in an answer. Secrets (note texts, invitation codes, tokens,
 * usernames) never appear in a request, so finding one anywhere is a leak. B's emails and name
 * are public: requests use them (to probe "email taken"), and a name or email made from them
 * (with a character added) is the attacker's own; they count only as a whole JSON value.
 */
export interface VictimEvidence {
  secrets: string[];
  publicStrings: string[];
  tenantId: string;
  noteIds: Set<string>;
  userIds: Set<string>;
}

export interface CheckContext {
  operation: Operation;
  method: string;
  actor: Actor;
  /** The acting user's role, when a tenant user acted. */
  role?: string;
  /** Everything the request said (decoded): the service may echo it back. */
  said: string;
  victim: VictimEvidence;
}

const ERROR_CODE = /^[A-Z][A-Z0-9_]*$/;

function walk(value: unknown, visit: (object: Record<string, unknown>) => void): void {
  const stack = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (Array.isArray(next)) stack.push(...(next as unknown[]));
    else if (next !== null && typeof next === 'object') {
      visit(next as Record<string, unknown>);
      stack.push(...Object.values(next));
    }
  }
}

/** Tenant B in an answer: its secrets anywhere, its public strings or ids as values. */
function victimLeaks(response: HttpResponse, context: CheckContext): string[] {
  const { victim, said } = context;
  // A request that presents one of B's refresh tokens holds B's session: within the retry grace
  // (REFRESH_RETRY_GRACE_SECONDS) its answer is B's current tokens by design.
  const holdsVictimSession = victim.secrets.some((secret) => said.includes(secret));
  const found = holdsVictimSession
    ? []
    : victim.secrets
        .filter((secret) => response.text.includes(secret))
        .map((secret) => `tenant B's "${secret.slice(0, 40)}"`);
  const saidLower = said.toLowerCase();
  const publicStrings = new Set(
    victim.publicStrings
      .map((value) => value.toLowerCase())
      .filter((value) => !saidLower.includes(value)),
  );
  walk(response.json, (object) => {
    const id = typeof object.id === 'string' ? object.id : undefined;
    if (id && victim.noteIds.has(id) && ('content' in object || 'authorId' in object)) {
      found.push(`tenant B's note ${id}`);
    }
    if (id && victim.userIds.has(id) && ('username' in object || 'email' in object)) {
      found.push(`tenant B's user ${id}`);
    }
    for (const key of ['authorId', 'userId', 'createdBy']) {
      const value = object[key];
      if (typeof value === 'string' && victim.userIds.has(value)) {
        found.push(`tenant B's user id ${value} as ${key}`);
      }
    }
    for (const [key, value] of Object.entries(object)) {
      if (typeof value === 'string' && publicStrings.has(value.toLowerCase())) {
        found.push(`tenant B's "${value.slice(0, 40)}" as ${key}`);
      }
    }
    if (object.tenantId === victim.tenantId) found.push(`tenant B's id as tenantId`);
    const tenant = object.tenant as { id?: unknown } | undefined;
    if (tenant && typeof tenant === 'object' && tenant.id === victim.tenantId) {
      found.push(`tenant B as tenant`);
    }
  });
  return found;
}

function credentialsIn(response: HttpResponse): string[] {
  const found: string[] = [];
  walk(response.json, (object) => {
    for (const key of ['accessToken', 'refreshToken']) {
      if (typeof object[key] === 'string') found.push(key);
    }
  });
  const body = response.json as { code?: unknown } | undefined;
  // A success answer's top-level `code` is an invitation code (errors have codes too, not 2xx).
  if (response.status < 300 && typeof body?.code === 'string') found.push('code');
  return found;
}

/** What is wrong with this answer; empty when nothing is. */
export function violations(response: HttpResponse, context: CheckContext): string[] {
  const found: string[] = [];
  const { operation, actor } = context;
  const status = response.status;

  if (status >= 500) found.push(`server error ${status}`);

  if (status >= 400 && context.method !== 'HEAD') {
    const body = response.json as Record<string, unknown> | undefined;
    if (
      !body ||
      typeof body !== 'object' ||
      body.statusCode !== status ||
      typeof body.code !== 'string' ||
      !ERROR_CODE.test(body.code) ||
      typeof body.message !== 'string'
    ) {
      found.push('error body is not {statusCode, code, message}');
    }
  }

  const credentials = credentialsIn(response);
  if (credentials.length > 0 && !/\bno-store\b/.test(String(response.headers['cache-control']))) {
    found.push(`${credentials.join(', ')} without Cache-Control: no-store`);
  }

  // Operators see every tenant on the operator API by design; everyone else sees B nowhere.
  const operatorReading = actor.kind === 'operator' && operation.security === 'operator';
  if (!operatorReading) found.push(...victimLeaks(response, context));

  if (status >= 200 && status < 300 && context.method === operation.method) {
    const tenantUser = actor.kind === 'user' || actor.kind === 'zombie';
    if (operation.security === 'bearer' && !tenantUser) {
      found.push(`${status} on a tenant route for ${actor.kind}`);
    }
    if (operation.security === 'operator' && actor.kind !== 'operator') {
      found.push(`${status} on an operator route for ${actor.kind}`);
    }
    if (
      operation.requiredRoles &&
      context.role &&
      !operation.requiredRoles.includes(context.role)
    ) {
      found.push(
        `${status} for a ${context.role}; documented: requires ${operation.requiredRoles.join(' or ')}`,
      );
    }
    if (!operation.responses.includes(String(status))) {
      found.push(`${status} is not a documented answer (${operation.responses.join(', ')})`);
    }
  }
  return found;
}
