import { LoggerService } from '@nestjs/common';
import {
  CLUSTER_WRITE_OPERATIONS,
  FuzzCase,
  materialize,
  Materialized,
  SACRIFICIAL_OPERATIONS,
} from './cases';
import { violations } from './checks';
import { HttpClient, HttpResponse } from './http-client';
import { Operation } from './openapi-model';
import { garbageText, JwtSettings } from './tokens';
import { Raw, Ref, Splice, stringValue, Value } from './values';
import { Principal, Role, World } from './world';

/** Nest's error log, kept per request: the first line of an unhandled error names the 5xx. */
export class ErrorLog implements LoggerService {
  entries: string[] = [];

  log(): void {}
  warn(): void {}
  debug(): void {}
  verbose(): void {}
  error(message: unknown, stack?: unknown): void {
    const detail = typeof stack === 'string' ? stack.split('\n').slice(0, 3).join(' | ') : '';
    this.entries.push(`${String(message)}${detail ? `: ${detail}` : ''}`);
  }

  take(): string[] {
    const entries = this.entries;
    this.entries = [];
    return entries;
  }
}

export interface Outcome {
  request: Materialized;
  response: HttpResponse;
  violations: string[];
  serverErrors: string[];
  actorLabel: string;
}

/** An id no tenant has: what a gated cluster write is aimed at instead of a real tenant. */
const NO_TENANT = '9223372036854775807';

const truncate = (text: string, max = 1_500) =>
  text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;

function refsIn(value: Value, found: Ref[] = []): Ref[] {
  if (value instanceof Ref) found.push(value);
  else if (value instanceof Splice) refsIn(value.base, found);
  else if (Array.isArray(value)) value.forEach((item) => refsIn(item, found));
  else if (value !== null && typeof value === 'object' && !(value instanceof Raw)) {
    Object.values(value).forEach((item) => refsIn(item, found));
  }
  return found;
}

/** Sends cases, checks answers, keeps the world's pools and disposables up to date. */
export class Runner {
  readonly exercised = new Set<string>();
  readonly statuses = new Map<string, Map<number, number>>();
  /** Time spent waiting for answers, per operation. */
  readonly milliseconds = new Map<string, number>();
  private readonly operations: Map<string, Operation>;

  constructor(
    private readonly world: World,
    private readonly client: HttpClient,
    operations: Operation[],
    private readonly log: ErrorLog,
    private readonly clusterWrites: boolean,
    private readonly jwt: JwtSettings,
  ) {
    this.operations = new Map(operations.map((operation) => [operation.key, operation]));
  }

  async run(fuzzCase: FuzzCase): Promise<Outcome> {
    const operation = this.operations.get(fuzzCase.operation);
    if (!operation) throw new Error(`no operation ${fuzzCase.operation}`);
    const world = this.world;
    // By the method actually sent: GET /users/{id} sent as DELETE is the removal of a member,
    // GET /admin/citus/rebalance sent as POST starts one.
    const sent = `${fuzzCase.method} ${operation.path}`;
    const sacrificial = SACRIFICIAL_OPERATIONS.includes(sent);
    const gated = !this.clusterWrites && CLUSTER_WRITE_OPERATIONS.includes(sent);

    // Who acts.
    let actor: Principal | undefined;
    let token: string | undefined;
    let actorLabel: string = fuzzCase.actor.kind;
    const disposables: Principal[] = [];
    switch (fuzzCase.actor.kind) {
      case 'user':
        actor = sacrificial
          ? await world.disposable(fuzzCase.actor.role)
          : world.stable(fuzzCase.actor.role);
        if (sacrificial) disposables.push(actor);
        token = actor.token;
        actorLabel = actor.label;
        break;
      case 'operator':
        token =
          gated && operation.parameters.every((parameter) => parameter.in !== 'path')
            ? garbageText(
                { kind: 'expired-operator' },
                world.stable('member'),
                world.operator.id,
                this.jwt,
              )
            : world.operator.token;
        break;
      case 'zombie': {
        const zombie = world.zombies[fuzzCase.actor.pick % Math.max(1, world.zombies.length)];
        token = zombie?.token ?? 'zombie.without.token';
        actorLabel = zombie ? zombie.label : 'zombie (none yet)';
        break;
      }
      case 'garbage':
        token = garbageText(
          fuzzCase.actor.token,
          world.stable('member'),
          world.operator.id,
          this.jwt,
        );
        actorLabel = `garbage ${fuzzCase.actor.token.kind}`;
        break;
      case 'none':
        break;
    }

    // A user id of A on a sacrificial route: the actor itself or another disposable member.
    const targets = new Map<Ref, Principal>();
    if (sacrificial) {
      const values: Value[] = [...Object.values(fuzzCase.path.params)];
      if (fuzzCase.body.kind === 'json' || fuzzCase.body.kind === 'utf16') {
        values.push(fuzzCase.body.value);
      }
      for (const ref of values.flatMap((value) => refsIn(value))) {
        if (ref.pool !== 'user:A' || (ref.pick % 4 === 0 && actor)) continue;
        const roles: Role[] = ['member', 'member', 'admin', 'owner'];
        const target = await world.disposable(roles[ref.pick % 4]);
        targets.set(ref, target);
        disposables.push(target);
      }
    }
    const resolve = (ref: Ref): string | number => {
      if (sacrificial && ref.pool === 'user:A') return (targets.get(ref) ?? actor)?.userId ?? '1';
      return world.resolve(ref);
    };

    let params = fuzzCase.path.params;
    if (sacrificial) {
      // An id that happens to be one of A's long-lived principals (a small random id) is aimed
      // at a disposable member instead: removing A's member would cripple the rest of the run.
      const stable = new Set(Object.values(world.attacker.members).map((member) => member.userId));
      params = { ...params };
      for (const [name, value] of Object.entries(params)) {
        if (!stable.has(stringValue(value, resolve))) continue;
        const target = await world.disposable('member');
        disposables.push(target);
        params[name] = target.userId;
      }
    }
    if (gated) {
      params = Object.fromEntries(
        Object.entries(params).map(([name, value]) => [
          name,
          /^\d+$/.test(stringValue(value, resolve)) ? NO_TENANT : value,
        ]),
      );
    }
    const request = materialize(
      { ...fuzzCase, path: { ...fuzzCase.path, params } },
      operation,
      resolve,
      token,
    );

    this.log.take();
    const sentAt = Date.now();
    const response = await this.client.send(request);
    const elapsed = Date.now() - sentAt;
    const serverErrors = this.log.take();

    const statusKey = fuzzCase.method === operation.method ? operation.key : 'other methods';
    if (fuzzCase.method === operation.method) this.exercised.add(operation.key);
    const byStatus = this.statuses.get(statusKey) ?? new Map<number, number>();
    byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
    this.statuses.set(statusKey, byStatus);
    this.milliseconds.set(statusKey, (this.milliseconds.get(statusKey) ?? 0) + elapsed);

    const found = violations(response, {
      operation,
      method: request.method,
      actor: fuzzCase.actor,
      role: actor?.role,
      said: request.said,
      victim: world.victimEvidence,
    });
    this.learn(operation, fuzzCase, response, actor);
    if (request.method === 'DELETE' && response.status < 300) {
      // Deleted notes leave the pool, so later cases keep finding notes that exist.
      for (const value of Object.values(params)) {
        world.forget('note:A', stringValue(value, resolve));
      }
    }
    for (const disposable of disposables) {
      world.release(disposable, response.status < 300 || response.status === 401);
    }
    return { request, response, violations: found, serverErrors, actorLabel };
  }

  /** Ids, codes and tokens from successful answers feed later cases. */
  private learn(
    operation: Operation,
    fuzzCase: FuzzCase,
    response: HttpResponse,
    actor: Principal | undefined,
  ): void {
    if (response.status >= 300 || fuzzCase.method !== operation.method) return;
    const body = response.json as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') return;
    const world = this.world;
    if (typeof body.refreshToken === 'string') {
      world.add(
        operation.path.includes('/admin/') ? 'refresh:operator' : 'refresh:user',
        body.refreshToken,
      );
    }
    const attackerSide = actor?.tenantId === world.attacker.id;
    if (attackerSide && typeof body.code === 'string') world.add('inviteCode:A', body.code);
    if (attackerSide && operation.key === 'POST /api/v1/notes' && typeof body.id === 'string') {
      world.add('note:A', body.id);
    }
    const registered = body.user as { id?: unknown; email?: unknown } | undefined;
    if (operation.key === 'POST /api/v1/auth/register' && typeof registered?.email === 'string') {
      if (registered.email.startsWith('fz-')) world.add('email:sacrificial', registered.email);
    }
  }
}

/** Access tokens are long and say nothing a reader needs: the actor's label says whose it is. */
const JWT = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g;
const redact = (text: string) => text.replace(JWT, '<JWT>');

/** The failure as a reader needs it: what was sent and what came back. */
export function describe(fuzzCase: FuzzCase, outcome: Outcome): string {
  const { request, response } = outcome;
  const headers = request.headers.map(
    ([name, value]) => `    ${name}: ${truncate(redact(value), 200)}`,
  );
  const responseHeaders = Object.entries(response.headers)
    .filter(([name]) => ['content-type', 'cache-control', 'retry-after'].includes(name))
    .map(([name, value]) => `    ${name}: ${String(value)}`);
  return [
    `${fuzzCase.operation} as ${outcome.actorLabel}${fuzzCase.mutated.length > 0 ? ` (mutated: ${fuzzCase.mutated.join(', ')})` : ' (valid)'}`,
    `  violations: ${outcome.violations.join('; ')}`,
    `  request: ${request.method} ${truncate(request.path, 300)}`,
    ...headers,
    `    body: ${request.body === undefined ? '(none)' : truncate(redact(JSON.stringify(request.body.toString('utf8'))), 600)}`,
    `  response: ${response.status}`,
    ...responseHeaders,
    `    body: ${truncate(redact(response.text), 600)}`,
    ...(outcome.serverErrors.length > 0
      ? [`  server log: ${truncate(outcome.serverErrors.join(' || '), 800)}`]
      : []),
  ].join('\n');
}
