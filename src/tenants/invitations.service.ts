import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull, MoreThan } from 'typeorm';
import { AuthenticatedUser } from '../access/principal';
import { AppError } from '../errors/app-error';
import { isManager, mayInvite, UserRole } from '../roles/roles';
import { TenantScopedRepositoryFactory, Where } from '../tenancy/tenant-scoped.repository';
import { InvitationEntity } from '../users/invitation.entity';
import { MembersService } from '../users/members.service';
import { CreateInvitationDto, InvitationCreatedDto } from './dto/create-invitation.dto';

const DEFAULT_INVITATION_HOURS = 72;

export function hashInvitationCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

export function invitationInvalid(): AppError {
  return new AppError(
    'INVITATION_INVALID',
    'The invitation code is not valid for this tenant, has expired or was already used',
  );
}

/** Criteria of an invitation that can still be used: this code, unused, not expired. */
function usable(code: string): Where<InvitationEntity> {
  return { codeHash: hashInvitationCode(code), usedAt: IsNull(), expiresAt: MoreThan(new Date()) };
}

/** Single-use, expiring invitation codes of the current tenant; only their hash is stored. */
@Injectable()
export class InvitationsService {
  constructor(
    private readonly scoped: TenantScopedRepositoryFactory,
    private readonly members: MembersService,
  ) {}

  async create(actor: AuthenticatedUser, dto: CreateInvitationDto): Promise<InvitationCreatedDto> {
    const role = dto.role ?? 'member';
    // The role as stored now (a token issued before a demotion still says admin), and held: a
    // demotion waits for this insert, then revokes it, instead of missing it.
    return this.members.asMember(actor, async ({ role: actorRole }, tx) => {
      if (!isManager(actorRole)) {
        throw new AppError('FORBIDDEN', 'Only owners and admins invite');
      }
      if (!mayInvite(actorRole, role)) {
        throw new AppError('FORBIDDEN', 'Only the tenant owner can invite admins');
      }
      const code = randomBytes(24).toString('base64url');
      const hours = dto.expiresInHours ?? DEFAULT_INVITATION_HOURS;
      const invitation = await this.scoped.for(InvitationEntity, tx).insert({
        codeHash: hashInvitationCode(code),
        role,
        createdBy: actor.userId,
        expiresAt: new Date(Date.now() + hours * 3600_000),
      });
      return { code, expiresAt: invitation.expiresAt, role };
    });
  }

  /** The role an unused, unexpired invitation of the current tenant grants. */
  async roleOf(code: string, tx?: EntityManager): Promise<UserRole> {
    const invitation = await this.scoped.for(InvitationEntity, tx).findOne(usable(code));
    if (!invitation) throw invitationInvalid();
    return invitation.role;
  }

  /**
   * Marks the invitation as used by `userId`. The conditional UPDATE is what makes a code
   * single-use under concurrency: a second transaction re-checks `used_at IS NULL` after the
   * first commits and matches nothing.
   */
  async consume(code: string, userId: string, tx: EntityManager): Promise<void> {
    const changed = await this.scoped
      .for(InvitationEntity, tx)
      .update(usable(code), { usedAt: () => 'now()', usedBy: userId });
    if (changed.length !== 1) throw invitationInvalid();
  }
}
