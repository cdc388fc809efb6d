import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { databaseOutage } from './outage';
import { PoolExecutor, poolOf, SqlExecutor, Statement } from './sql';
import { isUserRole, UserRole } from '../roles/roles';

/**
 * A member's session and standing in one statement on one shard: sessions and users are
 * colocated by tenant_id, so Citus routes it to the tenant's node.
 */
const MEMBER: Statement = {
  name: 'live_access_member_v1',
  text: `SELECT u.role FROM sessions s
    JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.subject_id
    WHERE s.tenant_id = $1 AND u.tenant_id = $1 AND s.family = $2
      AND s.subject_kind = 'user' AND s.subject_id = $3
      AND s.revoked_at IS NULL AND s.expires_at > now() AND u.removed_at IS NULL`,
};

const OPERATOR: Statement = {
  name: 'live_access_operator_v1',
  text: `SELECT 1 AS live FROM sessions
    WHERE tenant_id = $1 AND family = $2 AND subject_kind = 'operator' AND subject_id = $3
      AND revoked_at IS NULL AND expires_at > now()`,
};

/** A login session: the tenant its row is kept under (operators': OPERATOR_TENANT) and its id. */
interface Session {
  tenantId: string;
  sessionId: string;
}

interface Entry {
  /** The member's role, or `null` once the session is known to be over. */
  role: UserRole | null;
  until: number;
}

/**
 * Whether an access token's session is still live, and its member's role now: rights come from
 * the stored state, never from the role a token was issued with. An answer is kept for
 * ACCESS_RECHECK_MS (1 s by default) per session, so a client's burst costs one lookup; this
 * process forgets a tenant's answers the moment it ends a session or changes a member, and every
 * other instance sees the change when its answer runs out, within that bound.
 */
@Injectable()
export class LiveAccess {
  private readonly entries = new Map<string, Entry>();
  private readonly sql: SqlExecutor;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    dataSource: DataSource,
  ) {
    this.sql = new PoolExecutor(poolOf(dataSource), config.database.preparedStatements);
  }

  /** The member's current role, or undefined when the session ended or the member left. */
  async role(user: Session & { userId: string }): Promise<UserRole | undefined> {
    const key = `${user.tenantId}/${user.sessionId}/${user.userId}`;
    const known = this.recall(key);
    if (known !== undefined) return known ?? undefined;
    const { rows } = await this.sql.run<{ role: string }>(MEMBER, [
      user.tenantId,
      user.sessionId,
      user.userId,
    ]);
    const role = rows[0] && isUserRole(rows[0].role) ? rows[0].role : null;
    this.keep(key, role);
    return role ?? undefined;
  }

  /**
   * Whether an operator's session is live (the operator's existence is checked beside it). Their
   * sessions sit on one worker's shard; while it is down, a verified operator token is taken as
   * live, since operators need the console most during an outage (the token still runs out).
   */
  async operatorSession(operator: Session & { operatorId: string }): Promise<boolean> {
    const key = `${operator.tenantId}/${operator.sessionId}/${operator.operatorId}`;
    const known = this.recall(key);
    if (known !== undefined) return known !== null;
    try {
      const { rows } = await this.sql.run(OPERATOR, [
        operator.tenantId,
        operator.sessionId,
        operator.operatorId,
      ]);
      this.keep(key, rows.length > 0 ? 'member' : null);
      return rows.length > 0;
    } catch (error) {
      if (databaseOutage(error)) return true;
      throw error;
    }
  }

  /** Drops what this process knows of a tenant's sessions (operators: tenant '0'). */
  forgetTenant(tenantId: string): void {
    const prefix = `${tenantId}/`;
    for (const key of this.entries.keys()) {
      if (key.startsWith(prefix)) this.entries.delete(key);
    }
  }

  private recall(key: string): UserRole | null | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.role;
  }

  private keep(key: string, role: UserRole | null): void {
    const ttl = this.config.accessRecheckMs;
    if (ttl <= 0) return;
    if (this.entries.size >= 50_000) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { role, until: Date.now() + ttl });
  }
}
