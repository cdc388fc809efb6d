import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull, MoreThan } from 'typeorm';
import { GlobalRepositories } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { EmailTokenEntity, EmailTokenPurpose } from './email-token.entity';

export const TOKEN_LIFETIME_MS: Record<EmailTokenPurpose, number> = {
  verify: 24 * 3600_000,
  reset: 3600_000,
};

/**
 * How long after the last token mail to an address another may go there, given how many went
 * there in the last 24 hours, whatever their purpose: the second at once (a registration's mail
 * and the owner's own claim or reset right after it), then a minute, twice as long each time, at
 * most an hour: about 30 mails a day at most. Anyone may ask for a reset or a confirmation mail,
 * or register a claim, for any address, so this, not a per-email request budget, keeps a
 * stranger from flooding the mailbox; and as the longest wait (an hour) is no longer than a
 * token lives, the owner can always get a live one within the hour.
 */
export function mailSpacingMs(sentToday: number): number {
  return sentToday <= 1 ? 0 : Math.min(60_000 * 2 ** (sentToday - 2), 3600_000);
}

export interface Claim {
  passwordHash: string;
  tenantId: string;
  userId: string;
}

interface RawToken {
  email: string;
  token_hash: string;
  purpose: EmailTokenPurpose;
  claim_password_hash: string | null;
  claim_tenant_id: string | null;
  claim_user_id: string | null;
}

const hash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** `<secret>.<email, base64url>`: the token names its email, so it is found on one shard. */
function parse(token: string): { email: string; tokenHash: string } | undefined {
  const [secret, encoded, extra] = token.split('.');
  if (!secret || !encoded || extra !== undefined || !/^[\w-]{43}$/.test(secret)) return undefined;
  const email = Buffer.from(encoded, 'base64url').toString('utf8');
  return email.includes('@') ? { email, tokenHash: hash(token) } : undefined;
}

export function tokenInvalid(): AppError {
  return new AppError('TOKEN_INVALID', 'This token is not valid, has expired or was already used');
}

/** Single-use, expiring tokens sent by mail; only their SHA-256 is stored. */
@Injectable()
export class EmailTokensService {
  constructor(private readonly global: GlobalRepositories) {}

  async issue(
    email: string,
    purpose: EmailTokenPurpose,
    tx?: EntityManager,
    claim?: Claim,
  ): Promise<string> {
    const token = `${randomBytes(32).toString('base64url')}.${Buffer.from(email).toString('base64url')}`;
    await this.global.for(EmailTokenEntity, tx).insert({
      email,
      tokenHash: hash(token),
      purpose,
      expiresAt: new Date(Date.now() + TOKEN_LIFETIME_MS[purpose]),
      claimPasswordHash: claim?.passwordHash ?? null,
      claimTenantId: claim?.tenantId ?? null,
      claimUserId: claim?.userId ?? null,
    });
    return token;
  }

  /**
   * A token for a mail the address's owner or anyone else asked for, or none when the last mail
   * to this address went out too recently (`mailSpacingMs`, by the database clock). One budget per
   * address, whatever the mail: confirmations, claims and resets all count, so no route can send
   * more than another. Call it with the account's row locked (`AccountsService.findForUpdate`) so
   * two requests at once send one.
   */
  async issueSpaced(
    email: string,
    purpose: EmailTokenPurpose,
    tx: EntityManager,
    claim?: Claim,
  ): Promise<string | undefined> {
    const [recent] = await this.global
      .for(EmailTokenEntity, tx)
      .query<Array<{ sent: number; since_ms: number | null }>>(
        `SELECT count(*)::int AS sent,
              (extract(epoch FROM now() - max(created_at)) * 1000)::float8 AS since_ms
         FROM email_tokens
        WHERE email = $1 AND created_at > now() - interval '24 hours'`,
        [email],
      );
    if (recent.since_ms !== null && recent.since_ms < mailSpacingMs(recent.sent)) return undefined;
    return this.issue(email, purpose, tx, claim);
  }

  /** The email of a live (unused, unexpired) token, without using it; TOKEN_INVALID otherwise. */
  async emailOf(token: string, purpose: EmailTokenPurpose): Promise<string> {
    const key = parse(token);
    if (!key) throw tokenInvalid();
    const row = await this.global
      .for(EmailTokenEntity)
      .findOne({ where: { ...key, purpose, usedAt: IsNull(), expiresAt: MoreThan(new Date()) } });
    if (!row) throw tokenInvalid();
    return row.email;
  }

  /**
   * Marks the token used and returns it. The conditional UPDATE makes it single-use under
   * concurrency: a second use re-checks `used_at IS NULL` after the first commits.
   */
  async consume(
    token: string,
    purpose: EmailTokenPurpose,
    tx: EntityManager,
  ): Promise<EmailTokenEntity> {
    const key = parse(token);
    if (!key) throw tokenInvalid();
    const tokens = this.global.for(EmailTokenEntity, tx);
    const result = await tokens
      .createQueryBuilder()
      .update()
      .set({ usedAt: () => 'now()' })
      .where({ ...key, purpose, usedAt: IsNull(), expiresAt: MoreThan(new Date()) })
      .returning('*')
      .execute();
    // RETURNING gives column names; bigint columns come back as strings.
    const [row] = (result.raw as RawToken[]).map((raw) =>
      tokens.create({
        email: raw.email,
        tokenHash: raw.token_hash,
        purpose: raw.purpose,
        claimPasswordHash: raw.claim_password_hash,
        claimTenantId: raw.claim_tenant_id,
        claimUserId: raw.claim_user_id,
      }),
    );
    if (!row) throw tokenInvalid();
    return row;
  }

  /** Every unused token of this email for `purpose` stops working. */
  async revokeAll(email: string, purpose: EmailTokenPurpose, tx: EntityManager): Promise<void> {
    await this.global
      .for(EmailTokenEntity, tx)
      .update({ email, purpose, usedAt: IsNull() }, { usedAt: () => 'now()' });
  }
}
