import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull } from 'typeorm';
import { PasswordHasher } from '../credentials/passwords';
import { GlobalRepositories } from '../database/global-repositories';
import { isConstraint, violatedUniqueConstraint } from '../database/pg-errors';
import { AppError } from '../errors/app-error';
import { AccountEntity } from './account.entity';
import { LoginDirectoryEntry } from './login-directory.entity';

export interface Membership {
  tenantId: string;
  userId: string;
}

export interface Account {
  email: string;
  passwordHash: string;
  emailVerifiedAt: Date | null;
  memberships: Array<Membership & { legacyPasswordHash: string | null }>;
}

interface Row {
  email: string;
  password_hash: string;
  email_verified_at: Date | null;
  tenant_id: string | null;
  user_id: string | null;
  legacy_password_hash: string | null;
}

/**
 * One account per email (one password), and the memberships it opens. Both tables are
 * distributed by email and colocated, so reading an account with all its memberships is one
 * single-shard query, however many tenants the email is in.
 */
@Injectable()
export class AccountsService {
  constructor(
    private readonly global: GlobalRepositories,
    private readonly passwords: PasswordHasher,
  ) {}

  async find(email: string, tx?: EntityManager): Promise<Account | undefined> {
    const rows = await this.global.for(AccountEntity, tx).query<Row[]>(
      `SELECT a.email, a.password_hash, a.email_verified_at,
              d.tenant_id, d.user_id, d.legacy_password_hash
         FROM accounts a LEFT JOIN login_directory d ON d.email = a.email
        WHERE a.email = $1
        ORDER BY d.tenant_id`,
      [email],
    );
    const [first] = rows;
    if (!first) return undefined;
    return {
      email: first.email,
      passwordHash: first.password_hash,
      emailVerifiedAt: first.email_verified_at,
      memberships: rows
        .filter((row) => row.tenant_id !== null && row.user_id !== null)
        .map((row) => ({
          tenantId: String(row.tenant_id),
          userId: String(row.user_id),
          legacyPasswordHash: row.legacy_password_hash,
        })),
    };
  }

  /** The names of the account's tenants (tenants is a reference table: one shard still). */
  async tenantNames(email: string, tx?: EntityManager): Promise<string[]> {
    const rows = await this.global.for(AccountEntity, tx).query<Array<{ name: string }>>(
      `SELECT t.name FROM login_directory d JOIN tenants t ON t.id = d.tenant_id
        WHERE d.email = $1 ORDER BY t.name`,
      [email],
    );
    return rows.map((row) => row.name);
  }

  /** As find, with the account's row locked until the transaction ends. */
  async findForUpdate(email: string, tx: EntityManager): Promise<Account | undefined> {
    await this.global
      .for(AccountEntity, tx)
      .query(`SELECT 1 FROM accounts WHERE email = $1 FOR UPDATE`, [email]);
    return this.find(email, tx);
  }

  /**
   * The memberships this password opens: all of them with the account's password; with the
   * password a membership had before accounts existed (see the migration), that membership only,
   * and only when the login names its tenant (`named`). The bcrypt checks depend only on what
   * the caller sent, never on what is stored: one, and a second (legacy, or a dummy) whenever a
   * tenant is named and the first fails; each doubles for a password typed in a non-NFKC form.
   */
  async open(
    account: Account | undefined,
    password: string,
    named?: (membership: Membership) => boolean,
  ): Promise<Membership[]> {
    if (await this.passwords.verify(password, account?.passwordHash)) {
      return account?.memberships ?? [];
    }
    if (!named) return [];
    const legacy = account?.memberships.find(
      (membership) => named(membership) && membership.legacyPasswordHash,
    );
    // With no legacy hash to try, the dummy check keeps the time the same.
    return (await this.passwords.verify(password, legacy?.legacyPasswordHash)) && legacy
      ? [legacy]
      : [];
  }

  /** Whether this password is the account's own (not a legacy one). */
  isPassword(account: Account, password: string): Promise<boolean> {
    return this.passwords.verify(password, account.passwordHash);
  }

  async create(email: string, passwordHash: string, tx: EntityManager, verified = false) {
    try {
      await this.global.for(AccountEntity, tx).insert({
        email,
        passwordHash,
        emailVerifiedAt: verified ? new Date() : null,
        passwordChangedAt: new Date(),
      });
    } catch (error) {
      // Two first registrations of one email at the same moment: the second one loses.
      const constraint = violatedUniqueConstraint(error);
      if (constraint !== undefined && isConstraint(constraint, 'accounts_pkey')) {
        throw new AppError('ACCOUNT_EXISTS', 'This email has just been registered; log in with it');
      }
      throw error;
    }
  }

  /**
   * A new password for the account; the old per-tenant passwords of the migration stop working.
   * With `replacing`, only while the account's hash is still that one (it was checked against the
   * current password outside the transaction): false when it changed meanwhile, and then nothing
   * is changed.
   */
  async setPassword(
    email: string,
    passwordHash: string,
    tx: EntityManager,
    replacing?: string,
  ): Promise<boolean> {
    const result = await this.global
      .for(AccountEntity, tx)
      .update(replacing === undefined ? { email } : { email, passwordHash: replacing }, {
        passwordHash,
        passwordChangedAt: () => 'now()',
      });
    if (replacing !== undefined && result.affected === 0) return false;
    await this.global.for(LoginDirectoryEntry, tx).update({ email }, { legacyPasswordHash: null });
    return true;
  }

  async markVerified(email: string, tx: EntityManager): Promise<void> {
    // (Citus refuses now() inside coalesce in a distributed UPDATE: the WHERE keeps the first.)
    await this.global
      .for(AccountEntity, tx)
      .update({ email, emailVerifiedAt: IsNull() }, { emailVerifiedAt: () => 'now()' });
  }

  async addMembership(email: string, membership: Membership, tx: EntityManager): Promise<void> {
    try {
      await this.global.for(LoginDirectoryEntry, tx).insert({ email, ...membership });
    } catch (error) {
      const constraint = violatedUniqueConstraint(error);
      if (constraint !== undefined && isConstraint(constraint, 'login_directory_pkey')) {
        throw new AppError('EMAIL_TAKEN', 'This email is already registered in this tenant');
      }
      throw error;
    }
  }

  async removeMembership(email: string, tenantId: string, tx: EntityManager): Promise<void> {
    await this.global.for(LoginDirectoryEntry, tx).delete({ email, tenantId });
  }

  async removeAllMemberships(email: string, tx: EntityManager): Promise<void> {
    await this.global.for(LoginDirectoryEntry, tx).delete({ email });
  }
}
