import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull, MoreThan } from 'typeorm';
import { AuthenticatedUser } from '../access/principal';
import { AccountsService, Membership } from '../accounts/accounts.service';
import { ClaimedMemberships } from '../accounts/verification.service';
import { Transactions } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { INVITABLE_ROLES, mayChangeRole, mayInvite, mayRemove, UserRole } from '../roles/roles';
import { SessionsService } from '../sessions/sessions.service';
import { TenantContext } from '../tenancy/tenant-context';
import { TenantScopedRepositoryFactory } from '../tenancy/tenant-scoped.repository';
import { InvitationEntity } from './invitation.entity';
import { UserEntity } from './user.entity';
import { UsersService } from './users.service';

const lastOwner = () =>
  new AppError('LAST_OWNER', 'A tenant keeps at least one owner: make someone else owner first');

/**
 * Managing the members of the current tenant: roles, removal, leaving. Permissions are decided
 * on the actor's role as stored now, not as their token remembers it. A change ends the
 * affected member's sessions and revokes the pending invitations they could no longer make;
 * removal keeps the member's row (and their notes' authorship) and closes their login to this
 * tenant.
 */
@Injectable()
export class MembersService implements ClaimedMemberships {
  constructor(
    private readonly transactions: Transactions,
    private readonly scoped: TenantScopedRepositoryFactory,
    private readonly context: TenantContext,
    private readonly users: UsersService,
    private readonly accounts: AccountsService,
    private readonly sessions: SessionsService,
  ) {}

  /**
   * Runs `work` with the actor as stored now, under the members lock: what the actor makes with
   * their role (an invitation) cannot slip in beside a demotion or removal that would revoke it.
   */
  asMember<T>(
    actor: AuthenticatedUser,
    work: (me: UserEntity, tx: EntityManager) => Promise<T>,
  ): Promise<T> {
    return this.locked(async (tx) => work(await this.users.member(actor.userId, tx), tx));
  }

  async changeRole(actor: AuthenticatedUser, id: string, role: UserRole): Promise<UserEntity> {
    return this.locked(async (tx) => {
      const me = await this.users.member(actor.userId, tx);
      if (!mayChangeRole(me.role)) {
        throw new AppError('FORBIDDEN', 'Only an owner changes roles');
      }
      const target = await this.users.get(id, tx);
      if (target.role === role) return target;
      if (target.role === 'owner' && (await this.owners(tx)) <= 1) throw lastOwner();
      const [changed] = await this.scoped.for(UserEntity, tx).update({ id }, { role });
      await this.endSessions(target, tx);
      await this.revokeInvitations(target.id, role, tx);
      return changed;
    });
  }

  async remove(actor: AuthenticatedUser, id: string): Promise<void> {
    await this.locked(async (tx) => {
      const me = await this.users.member(actor.userId, tx);
      const target = await this.users.get(id, tx);
      if (target.id !== me.id && !mayRemove(me.role, target.role)) {
        throw new AppError('FORBIDDEN', 'Owners remove anyone, admins remove members only');
      }
      await this.detach(target, tx);
    });
  }

  async leave(actor: AuthenticatedUser): Promise<void> {
    await this.locked(async (tx) => this.detach(await this.users.member(actor.userId, tx), tx));
  }

  /**
   * An email claim was confirmed: the memberships the unproven holder of that email had made are
   * closed — the last-owner rule does not hold them, they were never this person's — and their
   * sessions end. The account's directory entries are the caller's (accounts) part.
   */
  async closeUnproven(memberships: readonly Membership[], tx: EntityManager): Promise<void> {
    for (const { tenantId, userId } of memberships) {
      await this.context.run({ tenantId }, async () => {
        await this.scoped
          .for(UserEntity, tx)
          .update({ id: userId, removedAt: IsNull() }, { removedAt: () => 'now()' });
        await this.sessions.revokeSubject({ tenantId, kind: 'user', id: userId }, tx);
        await this.revokeInvitations(userId, null, tx);
      });
    }
  }

  /** The member a confirmed claim registered becomes active. */
  async openClaimed({ tenantId, userId }: Membership, tx: EntityManager): Promise<void> {
    await this.context.run({ tenantId }, async () => {
      const [opened] = await this.scoped
        .for(UserEntity, tx)
        .update({ id: userId }, { removedAt: null });
      if (!opened) throw new AppError('TOKEN_INVALID', 'This registration no longer exists');
    });
  }

  private async detach(target: UserEntity, tx: EntityManager): Promise<void> {
    if (target.role === 'owner' && (await this.owners(tx)) <= 1) throw lastOwner();
    await this.scoped.for(UserEntity, tx).update({ id: target.id }, { removedAt: () => 'now()' });
    await this.accounts.removeMembership(target.email, target.tenantId, tx);
    await this.endSessions(target, tx);
    await this.revokeInvitations(target.id, null, tx);
  }

  /**
   * An invitation works only while its maker could still make it: after a change of standing
   * (`null`: no longer a member) their pending invitations beyond it are deleted. Deleted, not
   * marked: nothing lists invitations and no column says "revoked", so a deleted code is simply
   * unknown, answered like any other invalid one, and no reader can forget to check a flag. Used
   * ones are their joiners' history and stay; expired ones already work for nobody.
   */
  private async revokeInvitations(
    creator: string,
    standing: UserRole | null,
    tx: EntityManager,
  ): Promise<void> {
    for (const role of INVITABLE_ROLES) {
      if (standing !== null && mayInvite(standing, role)) continue;
      await this.scoped.for(InvitationEntity, tx).delete({
        createdBy: creator,
        role,
        usedAt: IsNull(),
        expiresAt: MoreThan(new Date()),
      });
    }
  }

  private endSessions(target: UserEntity, tx: EntityManager): Promise<void> {
    return this.sessions.revokeSubject(
      { tenantId: target.tenantId, kind: 'user', id: target.id },
      tx,
    );
  }

  private async owners(tx: EntityManager): Promise<number> {
    const owners = await this.scoped
      .for(UserEntity, tx)
      .find({ role: 'owner', removedAt: IsNull() }, { select: ['id'] });
    return owners.length;
  }

  /**
   * One change to a tenant's members at a time: otherwise two owners demoting each other at once
   * could both see the other still there and leave the tenant with none.
   */
  private locked<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    const { tenantId } = this.context.require('members');
    return this.transactions.run(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('members:' || $1::text))`, [tenantId]);
      return work(tx);
    });
  }
}
