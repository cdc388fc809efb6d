import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { EntityManager, IsNull } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppError } from '../errors/app-error';
import { LiveAccess } from '../database/live-access';
import { TenantContext } from '../tenancy/tenant-context';
import { TenantScopedRepositoryFactory } from '../tenancy/tenant-scoped.repository';
import { OPERATOR_TENANT, SessionEntity, SessionSubject } from './session.entity';

export { OPERATOR_TENANT };

export interface Subject {
  tenantId: string;
  kind: SessionSubject;
  id: string;
}

export interface IssuedRefresh {
  /** The session (family) id, put in access tokens as `sid`. */
  family: string;
  refreshToken: string;
  refreshExpiresIn: number;
}

const hash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');
const NONCE_BYTES = 16;
const MAC_BYTES = 16;
const TOKEN = /^(0|[1-9]\d{0,18})\.([\w-]{22})\.(0|[1-9]\d{0,8})\.([\w-]{43})$/;

function invalid(message = 'The refresh token is not valid or has expired'): AppError {
  return new AppError('UNAUTHENTICATED', message);
}

/**
 * Logins as sessions: each holds one valid refresh token at a time; using it replaces it
 * (rotation). A refresh token is `<tenant>.<session>.<generation>.<secret>`, the secret a random
 * nonce and an HMAC of everything before it under a key derived from JWT_SECRET, so the service
 * can tell a token it issued from an invented one without storing every token. The session keeps
 * the hash of its current token and its generation: an authentic token of an older generation
 * was replaced, so two parties hold the session and the whole session ends (reuse detection). An invented token is only refused: knowing a session id
 * (the `sid` of its access tokens) is not enough to end it. Revoking a session stops its refresh
 * and its access tokens (LiveAccess checks the session on every request).
 */
@Injectable()
export class SessionsService {
  private readonly key: Buffer;

  constructor(
    private readonly scoped: TenantScopedRepositoryFactory,
    private readonly context: TenantContext,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly live: LiveAccess,
  ) {
    this.key = Buffer.from(
      hkdfSync('sha256', config.jwt.secret, '', 'notes-service refresh tokens v1', 32),
    );
  }

  private mac(body: string, nonce: Buffer): Buffer {
    return createHmac('sha256', this.key)
      .update(`${body}.`, 'utf8')
      .update(nonce)
      .digest()
      .subarray(0, MAC_BYTES);
  }

  private newToken(
    tenantId: string,
    family: string,
    generation: number,
    nonce = randomBytes(NONCE_BYTES),
  ): string {
    const body = `${tenantId}.${family}.${generation}`;
    return `${body}.${Buffer.concat([nonce, this.mac(body, nonce)]).toString('base64url')}`;
  }

  /**
   * The token that replaces `token`: its nonce is derived from `token` under the key, so only
   * this service can compute it, and a retry of the same refresh can be given the same answer.
   */
  private successor(token: string, tenantId: string, family: string, generation: number) {
    const nonce = createHmac('sha256', this.key)
      .update(`successor.${token}`, 'utf8')
      .digest()
      .subarray(0, NONCE_BYTES);
    return this.newToken(tenantId, family, generation + 1, nonce);
  }

  /** The parts of a refresh token this service issued, or undefined for anything else. */
  private parse(
    token: string,
  ): { tenantId: string; family: string; generation: number } | undefined {
    const match = TOKEN.exec(token);
    if (!match) return undefined;
    const [, tenantId, family, generation, secret] = match;
    const bytes = Buffer.from(secret, 'base64url');
    if (bytes.length !== NONCE_BYTES + MAC_BYTES) return undefined;
    const expected = this.mac(
      `${tenantId}.${family}.${generation}`,
      bytes.subarray(0, NONCE_BYTES),
    );
    if (!timingSafeEqual(bytes.subarray(NONCE_BYTES), expected)) return undefined;
    return { tenantId, family, generation: Number(generation) };
  }

  private get ttlMs(): number {
    return this.config.refreshTtlSeconds * 1000;
  }

  start(subject: Subject, tx?: EntityManager): Promise<IssuedRefresh> {
    const family = randomBytes(16).toString('base64url');
    const refreshToken = this.newToken(subject.tenantId, family, 0);
    return this.context.run({ tenantId: subject.tenantId }, async () => {
      await this.scoped.for(SessionEntity, tx).insert({
        family,
        subjectKind: subject.kind,
        subjectId: subject.id,
        generation: 0,
        tokenHash: hash(refreshToken),
        expiresAt: new Date(Date.now() + this.ttlMs),
      });
      return { family, refreshToken, refreshExpiresIn: this.config.refreshTtlSeconds };
    });
  }

  /** Exchanges a refresh token for the next one of its session. */
  rotate(refreshToken: string): Promise<{ subject: Subject } & IssuedRefresh> {
    const token = this.parse(refreshToken);
    if (!token) return Promise.reject(invalid());
    const { tenantId, family, generation } = token;
    const next = this.successor(refreshToken, tenantId, family, generation);
    return this.context.run({ tenantId }, async () => {
      const sessions = this.scoped.for(SessionEntity);
      const [rotated] = await sessions.update(
        { family, generation, tokenHash: hash(refreshToken), revokedAt: IsNull() },
        { generation: generation + 1, tokenHash: hash(next), rotatedAt: () => 'now()' },
      );
      if (rotated && rotated.expiresAt.getTime() > Date.now()) {
        return {
          subject: { tenantId, kind: rotated.subjectKind, id: rotated.subjectId },
          family,
          refreshToken: next,
          refreshExpiresIn: Math.floor((rotated.expiresAt.getTime() - Date.now()) / 1000),
        };
      }
      const session = rotated ?? (await sessions.findOne({ family }));
      if (
        !session ||
        session.revokedAt ||
        session.expiresAt.getTime() <= Date.now() ||
        session.generation <= generation
      ) {
        throw invalid();
      }
      // The same token again, just after it was exchanged: a client retrying a refresh whose
      // answer it lost (a timeout, parallel tabs). Within REFRESH_RETRY_GRACE_SECONDS, and only
      // while the session's token is still the one this token was exchanged for, the retry
      // gets that token again instead of ending the session.
      const graceMs = this.config.refreshRetryGraceSeconds * 1000;
      if (
        session.generation === generation + 1 &&
        session.tokenHash === hash(next) &&
        session.rotatedAt !== null &&
        Date.now() - session.rotatedAt.getTime() <= graceMs
      ) {
        return {
          subject: { tenantId, kind: session.subjectKind, id: session.subjectId },
          family,
          refreshToken: next,
          refreshExpiresIn: Math.floor((session.expiresAt.getTime() - Date.now()) / 1000),
        };
      }
      // A token this session issued and has since replaced: someone else has used it. End it.
      await sessions.update({ family }, { revokedAt: () => 'now()' });
      throw new AppError(
        'SESSION_REVOKED',
        'This refresh token was already used; the session has been ended everywhere',
      );
    });
  }

  revokeFamily(tenantId: string, family: string, tx?: EntityManager): Promise<void> {
    this.live.forgetTenant(tenantId);
    return this.context.run({ tenantId }, async () => {
      await this.scoped
        .for(SessionEntity, tx)
        .update({ family, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
    });
  }

  /** Ends every session of one member (or operator). */
  revokeSubject(subject: Subject, tx?: EntityManager): Promise<void> {
    this.live.forgetTenant(subject.tenantId);
    return this.context.run({ tenantId: subject.tenantId }, async () => {
      await this.scoped
        .for(SessionEntity, tx)
        .update(
          { subjectKind: subject.kind, subjectId: subject.id, revokedAt: IsNull() },
          { revokedAt: () => 'now()' },
        );
    });
  }
}
