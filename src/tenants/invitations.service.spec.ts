import { createHash } from 'node:crypto';
import { EntityManager, IsNull, MoreThan } from 'typeorm';
import { AuthenticatedUser } from '../access/principal';
import { AppError } from '../errors/app-error';
import { InvitableRole, UserRole } from '../roles/roles';
import {
  FindOptions,
  Patch,
  TenantScopedRepositoryFactory,
  Where,
} from '../tenancy/tenant-scoped.repository';
import { InvitationEntity } from '../users/invitation.entity';
import { MembersService } from '../users/members.service';
import { hashInvitationCode, InvitationsService } from './invitations.service';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

const actor = (role: UserRole): AuthenticatedUser => ({
  kind: 'user',
  userId: '42',
  tenantId: '7',
  sessionId: 's'.repeat(22),
  role,
});

function invitation(values: Partial<InvitationEntity> = {}): InvitationEntity {
  return {
    tenantId: '7',
    id: '1',
    codeHash: 'h',
    role: 'member',
    createdBy: '42',
    expiresAt: new Date(Date.now() + 3600_000),
    usedAt: null,
    usedBy: null,
    createdAt: new Date(),
    ...values,
  };
}

describe(InvitationsService.name, () => {
  const tx = { queryRunner: {} } as unknown as EntityManager;
  let invitations: {
    findOne: jest.Mock<
      Promise<InvitationEntity | null>,
      [Where<InvitationEntity>, Pick<FindOptions<InvitationEntity>, 'select'>?]
    >;
    insert: jest.Mock<Promise<InvitationEntity>, [Partial<InvitationEntity>]>;
    update: jest.Mock<
      Promise<InvitationEntity[]>,
      [Where<InvitationEntity>, Patch<InvitationEntity>]
    >;
  };
  let factory: { for: jest.Mock };
  let members: { asMember: jest.Mock };
  let service: InvitationsService;

  beforeEach(() => {
    invitations = {
      findOne: jest.fn<
        Promise<InvitationEntity | null>,
        [Where<InvitationEntity>, Pick<FindOptions<InvitationEntity>, 'select'>?]
      >(() => Promise.resolve(null)),
      insert: jest.fn((values: Partial<InvitationEntity>) => Promise.resolve(invitation(values))),
      update: jest.fn<
        Promise<InvitationEntity[]>,
        [Where<InvitationEntity>, Patch<InvitationEntity>]
      >(() => Promise.resolve([])),
    };
    factory = { for: jest.fn(() => invitations) };
    // The actor's role as stored now: the same as in the token here (demotion is an e2e case).
    members = {
      asMember: jest.fn(
        (who: AuthenticatedUser, work: (me: { role: UserRole }, tx: EntityManager) => unknown) =>
          work({ role: who.role }, tx),
      ),
    };
    service = new InvitationsService(
      factory as unknown as TenantScopedRepositoryFactory,
      members as unknown as MembersService,
    );
  });

  describe('create', () => {
    it('should refuse an admin inviting an admin with FORBIDDEN, storing nothing', async () => {
      const error = await service
        .create(actor('admin'), { role: 'admin' })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'FORBIDDEN' });
      expect(invitations.insert).not.toHaveBeenCalled();
    });

    it('should refuse a member inviting anyone', async () => {
      await expect(service.create(actor('member'), {})).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      expect(invitations.insert).not.toHaveBeenCalled();
    });

    it.each<[UserRole, InvitableRole]>([
      ['owner', 'admin'],
      ['owner', 'member'],
      ['admin', 'member'],
    ])('should let an %s invite someone as %s', async (role, invited) => {
      const created = await service.create(actor(role), { role: invited });
      expect(created.role).toBe(invited);
      expect(invitations.insert).toHaveBeenCalledWith(
        expect.objectContaining({ role: invited, createdBy: '42' }),
      );
    });

    it("should insert under the members lock, in its transaction, as the actor's stored role", async () => {
      await service.create(actor('owner'), { role: 'admin' });
      expect(members.asMember).toHaveBeenCalledWith(actor('owner'), expect.any(Function));
      expect(factory.for).toHaveBeenCalledWith(InvitationEntity, tx);
    });

    it('should store only the sha256 hash of the code it hands out', async () => {
      const { code } = await service.create(actor('owner'), {});
      expect(code.length).toBeGreaterThanOrEqual(32);
      const [stored] = invitations.insert.mock.calls[0];
      expect(stored.codeHash).toBe(sha256(code));
      expect(hashInvitationCode(code)).toBe(sha256(code));
      expect(JSON.stringify(stored)).not.toContain(code);
    });

    it('should hand out a different code every time', async () => {
      const first = await service.create(actor('owner'), {});
      const second = await service.create(actor('owner'), {});
      expect(first.code).not.toBe(second.code);
    });

    it('should invite a member for 72 hours unless told otherwise', async () => {
      const before = Date.now();
      const created = await service.create(actor('admin'), {});
      const after = Date.now();
      expect(created.role).toBe('member');
      const expires = created.expiresAt.getTime();
      expect(expires).toBeGreaterThanOrEqual(before + 72 * 3600_000);
      expect(expires).toBeLessThanOrEqual(after + 72 * 3600_000);
    });

    it('should expire after expiresInHours when given', async () => {
      const before = Date.now();
      await service.create(actor('owner'), { expiresInHours: 2 });
      const after = Date.now();
      const [stored] = invitations.insert.mock.calls[0];
      const expires = stored.expiresAt?.getTime() ?? NaN;
      expect(expires).toBeGreaterThanOrEqual(before + 2 * 3600_000);
      expect(expires).toBeLessThanOrEqual(after + 2 * 3600_000);
    });
  });

  describe('roleOf', () => {
    it("should look for this code's hash among unused, unexpired invitations, in the transaction", async () => {
      invitations.findOne.mockResolvedValue(invitation({ role: 'admin' }));
      const before = new Date();
      await expect(service.roleOf('the-code', tx)).resolves.toBe('admin');
      expect(factory.for).toHaveBeenCalledWith(InvitationEntity, tx);
      const [where] = invitations.findOne.mock.calls[0];
      expect(where).toEqual({
        codeHash: sha256('the-code'),
        usedAt: IsNull(),
        expiresAt: MoreThan(expect.any(Date)),
      });
      const expiresAfter = (where.expiresAt as { value: Date }).value;
      expect(expiresAfter.getTime()).toBeGreaterThanOrEqual(before.getTime());
    });

    it('should answer INVITATION_INVALID when no usable invitation matches', async () => {
      await expect(service.roleOf('the-code', tx)).rejects.toMatchObject({
        code: 'INVITATION_INVALID',
      });
    });
  });

  describe('consume', () => {
    it('should mark the usable invitation used by the user, with the database clock', async () => {
      invitations.update.mockResolvedValue([invitation({ usedBy: '55' })]);
      await expect(service.consume('the-code', '55', tx)).resolves.toBeUndefined();
      expect(factory.for).toHaveBeenCalledWith(InvitationEntity, tx);
      const [where, patch] = invitations.update.mock.calls[0];
      expect(where).toEqual({
        codeHash: sha256('the-code'),
        usedAt: IsNull(),
        expiresAt: MoreThan(expect.any(Date)),
      });
      expect(patch.usedBy).toBe('55');
      expect(typeof patch.usedAt).toBe('function');
      expect((patch.usedAt as () => string)()).toBe('now()');
    });

    it('should answer INVITATION_INVALID when the update matched nothing (used, expired or unknown)', async () => {
      await expect(service.consume('the-code', '55', tx)).rejects.toMatchObject({
        code: 'INVITATION_INVALID',
      });
    });
  });
});
