import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool as PgPool } from 'pg';
import { tokenIn } from '../../tools/mail/sink';
import { OPERATOR, PASSWORD } from '../harness/e2e';
import { latestToken } from '../harness/mail';
import { VictimEvidence } from './checks';
import { HttpClient, HttpResponse } from './http-client';
import { Pool, Ref } from './values';

export type Role = 'owner' | 'admin' | 'member';

/** A tenant user the fuzzer can act as. */
export interface Principal {
  label: string;
  userId: string;
  tenantId: string;
  role: Role;
  email: string;
  username: string;
  password: string;
  token: string;
  obtainedAt: number;
  /** A request with it (or aimed at it) succeeded: log in again before using it. */
  stale?: boolean;
}

interface SeededTenant {
  id: string;
  name: string;
  members: Record<Role, Principal>;
  noteIds: string[];
  /** Strings only this tenant's data contains, never sent by the generators. */
  secrets: string[];
}

/** Tokens expire after JWT_TTL_SECONDS (300 in the tests): log in again well before. */
const TOKEN_MAX_AGE_MS = 150_000;
const POOL_CAP = 200;

const hex = () => randomBytes(4).toString('hex');

/** Thrown when seeding or upkeep fails: a broken world would make every case meaningless. */
class WorldError extends Error {}

function expectStatus(response: HttpResponse, statuses: number[], what: string): HttpResponse {
  if (!statuses.includes(response.status)) {
    throw new WorldError(
      `${what}: expected ${statuses.join('/')}, got ${response.status} ${response.text}`,
    );
  }
  return response;
}

/**
 * The state the fuzzer runs against, and its upkeep.
 *
 * Tenant A is the attacker's side: its owner, admin and member act in the generated requests, and
 * its ids, emails and invitation codes appear in them. Tenant B is the victim: seeded once, never
 * acting, its password unknown to the generators. Nothing of B may show up in an answer to anyone
 * but an operator on the operator API, and B's rows must stay exactly as seeded.
 *
 * Routes whose success ends the caller's membership, sessions or password (and role or member
 * changes aimed at a member) act through disposable members of A, made on demand, so A's
 * long-lived principals keep working; `heal` checks them and re-seeds A if one stops working.
 */
export class World {
  attacker!: SeededTenant;
  victim!: SeededTenant;
  operator!: { id: string; token: string; obtainedAt: number };
  readonly pools = new Map<Pool, Array<string | number>>();
  /** Used disposables whose tokens may still work: a removed or logged-out member's token. */
  readonly zombies: Principal[] = [];
  readonly stats = { disposablesMade: 0, attackerReseeds: 0, relogins: 0, lastReseedCause: '' };
  private readonly spare = new Map<Role, Principal[]>();
  private readonly seenMails = new Set<string>();
  private victimSnapshot = '';
  private counter = 0;

  constructor(
    private readonly http: HttpClient,
    private readonly db: PgPool,
    private readonly mailDir: string,
  ) {}

  // -------------------------------------------------------------------------------------------
  // Requests the world makes for itself

  async api(
    method: string,
    path: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<HttpResponse> {
    const headers: Array<[string, string]> = [];
    if (options.token) headers.push(['authorization', `Bearer ${options.token}`]);
    let body: Buffer | undefined;
    if (options.body !== undefined) {
      headers.push(['content-type', 'application/json']);
      body = Buffer.from(JSON.stringify(options.body));
    }
    return this.http.send({ method, path, headers, body });
  }

  private async login(email: string, password: string, tenantId: string): Promise<HttpResponse> {
    return this.api('POST', '/api/v1/auth/login', { body: { email, password, tenant: tenantId } });
  }

  private async register(
    body: Record<string, string>,
  ): Promise<{ userId: string; tenantId: string }> {
    const response = expectStatus(
      await this.api('POST', '/api/v1/auth/register', { body }),
      [201],
      `register ${body.email}`,
    );
    const answer = response.json as { user: { id: string }; tenant: { id: string } };
    return { userId: answer.user.id, tenantId: answer.tenant.id };
  }

  private async invite(token: string, role: 'admin' | 'member'): Promise<string> {
    const response = expectStatus(
      await this.api('POST', '/api/v1/tenants/current/invitations', { token, body: { role } }),
      [201],
      `invite ${role}`,
    );
    return (response.json as { code: string }).code;
  }

  private async member(
    label: string,
    tenant: { id: string; name: string },
    role: Role,
    password: string,
    inviterToken: string | undefined,
    prefix: string,
  ): Promise<Principal> {
    const n = (this.counter += 1);
    const email = `${prefix}-${role}-${n}-${hex()}@example.com`;
    const username = `${prefix}_${role}_${n}_${hex()}`.slice(0, 32);
    const inviteCode =
      inviterToken === undefined
        ? undefined
        : await this.invite(inviterToken, role === 'member' ? 'member' : 'admin');
    const { userId, tenantId } = await this.register({
      tenantName: tenant.name,
      username,
      email,
      password,
      ...(inviteCode ? { inviteCode } : {}),
    });
    const principal: Principal = {
      label,
      userId,
      tenantId,
      role: inviteCode === undefined ? 'owner' : role === 'member' ? 'member' : 'admin',
      email,
      username,
      password,
      token: '',
      obtainedAt: 0,
    };
    await this.refresh(principal);
    return principal;
  }

  /** A new access token for `principal` (and its refresh token into the pool). */
  async refresh(principal: Principal): Promise<void> {
    const response = expectStatus(
      await this.login(principal.email, principal.password, principal.tenantId),
      [200],
      `login ${principal.label}`,
    );
    const answer = response.json as { accessToken: string; refreshToken: string };
    principal.token = answer.accessToken;
    principal.obtainedAt = Date.now();
    this.add('refresh:user', answer.refreshToken);
  }

  private async promote(owner: Principal, target: Principal, role: Role): Promise<void> {
    expectStatus(
      await this.api('PATCH', `/api/v1/users/${target.userId}`, {
        token: owner.token,
        body: { role },
      }),
      [200],
      `make ${target.label} ${role}`,
    );
    target.role = role;
    await this.refresh(target);
  }

  private async verify(email: string): Promise<void> {
    expectStatus(
      await this.api('POST', '/api/v1/auth/verify-email', {
        body: { token: latestToken(email, 'Confirm your email') },
      }),
      [200],
      `verify ${email}`,
    );
  }

  private async note(principal: Principal, marker: string): Promise<string> {
    const response = expectStatus(
      await this.api('POST', '/api/v1/notes', {
        token: principal.token,
        body: { title: `${marker} title`, content: `${marker} content` },
      }),
      [201],
      `note by ${principal.label}`,
    );
    return (response.json as { id: string }).id;
  }

  // -------------------------------------------------------------------------------------------
  // Seeding

  private async seedTenant(side: 'A' | 'B', password: string): Promise<SeededTenant> {
    const tag = `${side === 'A' ? 'attacker' : 'victim'}-${hex()}${hex()}`;
    const name = `Fuzz ${tag}`;
    const prefix = `fuzz-${side.toLowerCase()}`;
    const owner = await this.member(
      `${side}.owner`,
      { id: '', name },
      'owner',
      password,
      undefined,
      prefix,
    );
    const tenant = { id: owner.tenantId, name };
    const admin = await this.member(
      `${side}.admin`,
      tenant,
      'admin',
      password,
      owner.token,
      prefix,
    );
    const member = await this.member(
      `${side}.member`,
      tenant,
      'member',
      password,
      owner.token,
      prefix,
    );
    const members = { owner, admin, member };
    // Verified: an unverified email could be claimed by a registration that never proves it.
    for (const principal of Object.values(members)) await this.verify(principal.email);
    const secrets: string[] = [];
    const noteIds: string[] = [];
    for (const principal of Object.values(members)) {
      for (let i = 0; i < 2; i += 1) {
        const marker = `${tag}-note-${principal.role}-${i}`;
        noteIds.push(await this.note(principal, marker));
        secrets.push(marker);
      }
      secrets.push(principal.username, principal.token);
    }
    return { id: tenant.id, name, members, noteIds, secrets };
  }

  /** Tenant A again, from scratch: its old principals are left as they are. */
  async seedAttacker(): Promise<void> {
    this.attacker = await this.seedTenant('A', PASSWORD);
    const { members } = this.attacker;
    this.pools.set('tenant:A', [this.attacker.id]);
    this.pools.set('tenantName:A', [this.attacker.name]);
    this.pools.set('note:A', [...this.attacker.noteIds]);
    this.pools.set(
      'user:A',
      Object.values(members).map((principal) => principal.userId),
    );
    this.pools.set(
      'email:A',
      Object.values(members).map((principal) => principal.email),
    );
    this.pools.set(
      'username:A',
      Object.values(members).map((principal) => principal.username),
    );
    this.pools.set('inviteCode:A', []);
    for (const role of ['admin', 'member', 'member'] as const) {
      this.add('inviteCode:A', await this.invite(members.owner.token, role));
    }
    this.spare.clear();
  }

  async seed(): Promise<void> {
    // B's password is never given to the generators: nobody on A's side can prove B's accounts.
    this.victim = await this.seedTenant('B', `victim ${hex()} ${hex()} passphrase`);
    const { members } = this.victim;
    // Outstanding invitations of B: codes only B knows, so they count as B's secrets.
    for (const role of ['admin', 'member'] as const) {
      this.victim.secrets.push(await this.invite(members.owner.token, role));
    }
    this.pools.set('tenant:B', [this.victim.id]);
    this.pools.set('tenantName:B', [this.victim.name]);
    this.pools.set('note:B', [...this.victim.noteIds]);
    this.pools.set(
      'user:B',
      Object.values(members).map((principal) => principal.userId),
    );
    this.pools.set(
      'email:B',
      Object.values(members).map((principal) => principal.email),
    );
    await this.seedAttacker();

    const operator = expectStatus(
      await this.api('POST', '/api/v1/admin/auth/login', { body: OPERATOR }),
      [200],
      'operator login',
    ).json as { accessToken: string };
    const operatorId = (
      JSON.parse(Buffer.from(operator.accessToken.split('.')[1], 'base64url').toString()) as {
        sub: string;
      }
    ).sub;
    this.operator = { id: operatorId, token: operator.accessToken, obtainedAt: Date.now() };
    for (let i = 0; i < 3; i += 1) {
      const extra = expectStatus(
        await this.api('POST', '/api/v1/admin/auth/login', { body: OPERATOR }),
        [200],
        'operator login',
      ).json as { refreshToken: string };
      this.add('refresh:operator', extra.refreshToken);
    }
    this.pools.set('email:operator', [OPERATOR.email]);
    this.pools.set('password:known', [PASSWORD, OPERATOR.password]);
    const nodes = expectStatus(
      await this.api('GET', '/api/v1/admin/citus/nodes', { token: this.operator.token }),
      [200],
      'nodes',
    ).json as {
      nodes: Array<{ id: number; role: string; active: boolean; shouldHaveShards: boolean }>;
    };
    // Where a tenant may be moved to: the workers that take shards.
    this.pools.set(
      'node',
      nodes.nodes
        .filter((node) => node.role === 'worker' && node.active && node.shouldHaveShards)
        .map((node) => node.id),
    );
    this.collectMailedTokens();
    this.victimSnapshot = await this.snapshotVictim();
  }

  // -------------------------------------------------------------------------------------------
  // Pools

  add(pool: Pool, value: string | number): void {
    const values = this.pools.get(pool) ?? [];
    if (values.includes(value)) return;
    values.push(value);
    if (values.length > POOL_CAP) values.shift();
    this.pools.set(pool, values);
  }

  forget(pool: Pool, value: string | number): void {
    const values = this.pools.get(pool) ?? [];
    const at = values.indexOf(value);
    if (at >= 0 && values.length > 1) values.splice(at, 1);
  }

  /** The n-th entry of a pool (wrapping), or a stand-in of the same kind when it is empty. */
  resolve(ref: Ref): string | number {
    const values = this.pools.get(ref.pool) ?? [];
    if (values.length > 0) return values[ref.pick % values.length];
    if (ref.pool === 'node') return 1;
    if (ref.pool.startsWith('email:')) return `fz-nobody-${ref.pick}@example.com`;
    if (ref.pool === 'emailToken' || ref.pool.startsWith('refresh:')) {
      return `0.${'A'.repeat(22)}.0.${'B'.repeat(43)}`;
    }
    return String(ref.pick + 1);
  }

  /** Tokens mailed to addresses only the fuzzer uses (fz-...), never to a seeded member's. */
  collectMailedTokens(): void {
    for (const name of readdirSync(this.mailDir)) {
      if (this.seenMails.has(name)) continue;
      this.seenMails.add(name);
      const raw = readFileSync(join(this.mailDir, name), 'utf8');
      const to = /^To: .*?<?(\S+@[^\s>]+)>?\s*$/im.exec(raw)?.[1]?.toLowerCase();
      const token = tokenIn(raw);
      if (to?.startsWith('fz-') && token) this.add('emailToken', token);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Principals

  stable(role: Role): Principal {
    return this.attacker.members[role];
  }

  /**
   * A member of A nobody else relies on, for a route that may end its membership or sessions.
   * After a request with it (or aimed at it) changed something, it is logged in again before
   * its next use: a logout or a role change leaves it usable, a removal or a new password it
   * does not know of retires it.
   */
  async disposable(role: Role): Promise<Principal> {
    const spare = this.spare.get(role) ?? [];
    this.spare.set(role, spare);
    for (let candidate = spare.shift(); candidate; candidate = spare.shift()) {
      if (!candidate.stale && Date.now() - candidate.obtainedAt <= TOKEN_MAX_AGE_MS) {
        return candidate;
      }
      const login = await this.login(candidate.email, candidate.password, candidate.tenantId);
      if (login.status !== 200) continue;
      const answer = login.json as {
        accessToken: string;
        refreshToken: string;
        user: { role: Role };
      };
      Object.assign(candidate, {
        token: answer.accessToken,
        obtainedAt: Date.now(),
        stale: false,
        role: answer.user.role,
      });
      this.add('refresh:user', answer.refreshToken);
      if (candidate.role === role) return candidate;
      this.release(candidate, false);
    }
    const owner = this.attacker.members.owner;
    const made = await this.member(
      `A.disposable.${role}`,
      this.attacker,
      role === 'member' ? 'member' : 'admin',
      PASSWORD,
      owner.token,
      'fz-d',
    );
    if (role === 'owner') await this.promote(owner, made, 'owner');
    this.stats.disposablesMade += 1;
    this.add('email:sacrificial', made.email);
    return made;
  }

  /** After a request: back to the spares; its token joins the zombies when something changed. */
  release(principal: Principal, changedSomething: boolean): void {
    if (changedSomething) {
      this.zombies.push({ ...principal, label: `zombie of ${principal.label}` });
      if (this.zombies.length > 20) this.zombies.shift();
      principal.stale = true;
    }
    const spare = this.spare.get(principal.role) ?? [];
    spare.push(principal);
    this.spare.set(principal.role, spare);
  }

  /**
   * Keeps A's long-lived principals and the operator usable: fresh tokens before they expire,
   * and a new tenant A if one of them no longer is what it was (role, tenant, login).
   */
  async heal(force = false): Promise<void> {
    const now = Date.now();
    if (force || now - this.operator.obtainedAt > TOKEN_MAX_AGE_MS) {
      const response = await this.api('POST', '/api/v1/admin/auth/login', { body: OPERATOR });
      const answer = expectStatus(response, [200], 'operator login').json as {
        accessToken: string;
      };
      this.operator.token = answer.accessToken;
      this.operator.obtainedAt = now;
    }
    for (const principal of Object.values(this.attacker.members)) {
      const me = force
        ? await this.api('GET', '/api/v1/auth/me', { token: principal.token })
        : undefined;
      const answer = me?.json as { user?: { role?: string }; tenant?: { id?: string } } | undefined;
      const intact =
        me === undefined ||
        (me.status === 200 &&
          answer?.user?.role === principal.role &&
          answer.tenant?.id === principal.tenantId);
      if (intact && now - principal.obtainedAt <= TOKEN_MAX_AGE_MS) continue;
      const login = await this.login(principal.email, principal.password, principal.tenantId);
      const role = (login.json as { user?: { role?: string } } | undefined)?.user?.role;
      if (login.status === 200 && role === principal.role) {
        principal.token = (login.json as { accessToken: string }).accessToken;
        principal.obtainedAt = now;
        this.stats.relogins += 1;
        continue;
      }
      this.stats.attackerReseeds += 1;
      this.stats.lastReseedCause = `${principal.label}: /auth/me ${me?.status ?? '-'}, login ${login.status} ${login.text.slice(0, 200)}`;
      await this.seedAttacker();
      return;
    }
  }

  // -------------------------------------------------------------------------------------------
  // The victim's ground truth

  /** Every row of tenant B and of B's accounts, read past the API. */
  async snapshotVictim(): Promise<string> {
    const id = this.victim.id;
    const emails = Object.values(this.victim.members).map((principal) => principal.email);
    const parts: unknown[] = [];
    for (const [table, where, params] of [
      ['tenants', 'id = $1', [id]],
      ['users', 'tenant_id = $1', [id]],
      ['notes', 'tenant_id = $1', [id]],
      ['invitations', 'tenant_id = $1', [id]],
      ['login_directory', 'tenant_id = $1', [id]],
      ['accounts', 'email = ANY($1)', [emails]],
    ] as const) {
      const { rows } = await this.db.query(
        `SELECT to_jsonb(t) AS row FROM ${table} t WHERE ${where}`,
        [...params],
      );
      parts.push([table, rows.map((row: { row: unknown }) => JSON.stringify(row.row)).sort()]);
    }
    return JSON.stringify(parts);
  }

  /** Undefined when tenant B is exactly as seeded, else what changed. */
  async victimChange(): Promise<string | undefined> {
    const now = await this.snapshotVictim();
    if (now === this.victimSnapshot) return undefined;
    return `seeded: ${this.victimSnapshot}\nnow:    ${now}`;
  }

  /** Everything that identifies tenant B (see VictimEvidence). */
  get victimEvidence(): VictimEvidence {
    const members = Object.values(this.victim.members);
    return {
      secrets: this.victim.secrets,
      publicStrings: [this.victim.name, ...members.map((principal) => principal.email)],
      tenantId: this.victim.id,
      noteIds: new Set(this.victim.noteIds),
      userIds: new Set(members.map((principal) => principal.userId)),
    };
  }
}
