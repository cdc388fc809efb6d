import { EntityManager, FindOperator, IsNull, MoreThan } from 'typeorm';
import { AuthenticatedUser } from '../access/principal';
import { AccountsService } from '../accounts/accounts.service';
import { Transactions } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { InvitableRole, UserRole } from '../roles/roles';
import { SessionsService } from '../sessions/sessions.service';
import { TenantContext, TenantContextMissingError } from '../tenancy/tenant-context';
import { Patch, TenantScopedRepositoryFactory, Where } from '../tenancy/tenant-scoped.repository';
import { InvitationEntity } from './invitation.entity';
import { MembersService } from './members.service';
import { UserEntity } from './user.entity';
import { UsersService } from './users.service';

const member = (id: string, role: UserRole): UserEntity => ({
  tenantId: '7',
  id,
  username: `u${id}`,
  usernameKey: `u${id}`,
  email: `u${id}@example.com`,
  role,
  createdAt: new Date(0),
  removedAt: null,
});

let invitationIds = 0;
const invitation = (
  createdBy: string,
  role: InvitableRole,
  state: 'pending' | 'used' | 'expired' = 'pending',
  tenantId = '7',
): InvitationEntity => ({
  tenantId,
  id: String((invitationIds += 1)),
  codeHash: `h${invitationIds}`,
  role,
  createdBy,
  expiresAt: new Date(Date.now() + (state === 'expired' ? -1 : 1) * 3600_000),
  usedAt: state === 'used' ? new Date() : null,
  usedBy: state === 'used' ? '99' : null,
  createdAt: new Date(0),
});

/** Whether a row meets scoped-layer criteria: equality, IsNull() and MoreThan(). */
function meets(row: InvitationEntity, where: Where<InvitationEntity>): boolean {
  return Object.entries(where).every(([key, criterion]) => {
    const value = row[key as keyof InvitationEntity];
    if (!(criterion instanceof FindOperator)) return value === criterion;
    if (criterion.type === 'isNull') return value === null;
    if (criterion.type === 'moreThan') return value !== null && value > (criterion.value as Date);
    throw new Error(`unexpected operator ${criterion.type}`);
  });
}

/** The token's idea of the actor; the stored role is what counts. */
const actor = (userId: string, role: UserRole = 'owner'): AuthenticatedUser => ({
  kind: 'user',
  userId,
  tenantId: '7',
  role,
  sessionId: 's'.repeat(22),
});

describe(MembersService.name, () => {
  const context = new TenantContext();
  let tx: EntityManager & { query: jest.Mock };
  let team: Map<string, UserEntity>;
  let repository: { update: jest.Mock; find: jest.Mock };
  /** Every tenant's invitations, and the scoped repository over them. */
  let stored: InvitationEntity[];
  let invitations: { delete: jest.Mock };
  let scoped: { for: jest.Mock };
  let users: { get: jest.Mock; member: jest.Mock };
  let accounts: { removeMembership: jest.Mock };
  let sessions: { revokeSubject: jest.Mock };
  let service: MembersService;

  /** Owner 1, admins 2 and 3, members 4 and 5. */
  const seat = (...people: UserEntity[]) => {
    team = new Map(people.map((person) => [person.id, { ...person }]));
  };

  beforeEach(() => {
    tx = { queryRunner: {}, query: jest.fn(() => Promise.resolve([])) } as unknown as typeof tx;
    seat(
      member('1', 'owner'),
      member('2', 'admin'),
      member('3', 'admin'),
      member('4', 'member'),
      member('5', 'member'),
    );
    const active = () => [...team.values()].filter((person) => person.removedAt === null);
    repository = {
      update: jest.fn((where: Where<UserEntity>, patch: Patch<UserEntity>) => {
        const person = team.get(where.id as string);
        if (!person) return Promise.resolve([]);
        const onlyActive =
          where.removedAt instanceof FindOperator && where.removedAt.type === 'isNull';
        if (onlyActive && person.removedAt !== null) return Promise.resolve([]);
        for (const [key, value] of Object.entries(patch)) {
          Object.assign(person, { [key]: typeof value === 'function' ? new Date() : value });
        }
        return Promise.resolve([{ ...person }]);
      }),
      find: jest.fn((where: Where<UserEntity>) =>
        Promise.resolve(active().filter((person) => person.role === where.role)),
      ),
    };
    stored = [];
    invitations = {
      delete: jest.fn((where: Where<InvitationEntity>) => {
        const { tenantId } = context.require('invitations.delete');
        const before = stored.length;
        stored = stored.filter((row) => row.tenantId !== tenantId || !meets(row, where));
        return Promise.resolve(before - stored.length);
      }),
    };
    scoped = {
      for: jest.fn((entity: unknown) => (entity === InvitationEntity ? invitations : repository)),
    };
    users = {
      get: jest.fn((id: string) => {
        const person = team.get(id);
        return person && person.removedAt === null
          ? Promise.resolve({ ...person })
          : Promise.reject(new AppError('USER_NOT_FOUND', `User ${id} not found`));
      }),
      member: jest.fn(),
    };
    // The real rule (401 for a removed member) over the stub's rows.
    users.member.mockImplementation((id: string, tx?: EntityManager) =>
      UsersService.prototype.member.call(users, id, tx),
    );
    accounts = { removeMembership: jest.fn(() => Promise.resolve()) };
    sessions = { revokeSubject: jest.fn(() => Promise.resolve()) };
    const transactions = {
      run: jest.fn((work: (manager: EntityManager) => Promise<unknown>) => work(tx)),
    };
    service = new MembersService(
      transactions as unknown as Transactions,
      scoped as unknown as TenantScopedRepositoryFactory,
      context,
      users as unknown as UsersService,
      accounts as unknown as AccountsService,
      sessions as unknown as SessionsService,
    );
  });

  const inTenant = <T>(work: () => Promise<T>) => context.run({ tenantId: '7' }, work);
  const role = (id: string) => team.get(id)?.role;
  const removed = (id: string) => team.get(id)?.removedAt instanceof Date;
  const expectSessionsEnded = (...ids: string[]) =>
    expect(sessions.revokeSubject.mock.calls).toEqual(
      ids.map((id) => [{ tenantId: '7', kind: 'user', id }, tx]),
    );
  const expectNothingChanged = () => {
    expect(repository.update).not.toHaveBeenCalled();
    expect(accounts.removeMembership).not.toHaveBeenCalled();
    expect(sessions.revokeSubject).not.toHaveBeenCalled();
    expect(invitations.delete).not.toHaveBeenCalled();
  };
  /** What is left of the invitations, as "maker role state" in tenant 7 unless named. */
  const left = (tenantId = '7') =>
    stored
      .filter((row) => row.tenantId === tenantId)
      .map(
        (row) =>
          `${row.createdBy} ${row.role} ${row.usedAt ? 'used' : row.expiresAt.getTime() < Date.now() ? 'expired' : 'pending'}`,
      );

  describe('changeRole', () => {
    it("should let an owner change a role, ending the target's sessions", async () => {
      const changed = await inTenant(() => service.changeRole(actor('1'), '4', 'admin'));
      expect(changed.role).toBe('admin');
      expect(role('4')).toBe('admin');
      expect(repository.update).toHaveBeenCalledWith({ id: '4' }, { role: 'admin' });
      expectSessionsEnded('4');
    });

    it.each<[string, UserRole]>([
      ['2', 'admin'],
      ['4', 'member'],
    ])('should refuse user %s (%s) changing roles with FORBIDDEN', async (id) => {
      const error = await inTenant(() => service.changeRole(actor(id), '5', 'admin')).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'FORBIDDEN' });
      expectNothingChanged();
    });

    it('should go by the stored role, not the role in the token', async () => {
      team.get('1')!.role = 'admin';
      await expect(
        inTenant(() => service.changeRole(actor('1', 'owner'), '4', 'admin')),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expectNothingChanged();
    });

    it('should refuse to demote the last owner, even by themselves, with LAST_OWNER', async () => {
      await expect(
        inTenant(() => service.changeRole(actor('1'), '1', 'admin')),
      ).rejects.toMatchObject({ code: 'LAST_OWNER' });
      expect(role('1')).toBe('owner');
      expectNothingChanged();
    });

    it('should demote an owner while another owner remains', async () => {
      team.get('2')!.role = 'owner';
      await inTenant(() => service.changeRole(actor('2'), '1', 'member'));
      expect(role('1')).toBe('member');
      expectSessionsEnded('1');
    });

    it('should not count removed owners as remaining owners', async () => {
      Object.assign(team.get('2')!, { role: 'owner', removedAt: new Date(0) });
      await expect(
        inTenant(() => service.changeRole(actor('1'), '1', 'admin')),
      ).rejects.toMatchObject({ code: 'LAST_OWNER' });
      expect(repository.find).toHaveBeenCalledWith(
        { role: 'owner', removedAt: IsNull() },
        { select: ['id'] },
      );
    });

    it('should change nothing when the role is already that one', async () => {
      await inTenant(() => service.changeRole(actor('1'), '4', 'member'));
      expectNothingChanged();
    });
  });

  describe('remove', () => {
    it('should let an admin remove a member: removedAt set, directory entry deleted, sessions ended', async () => {
      await inTenant(() => service.remove(actor('2', 'admin'), '4'));
      expect(removed('4')).toBe(true);
      const [where, patch] = repository.update.mock.calls[0] as [
        object,
        { removedAt: () => string },
      ];
      expect(where).toEqual({ id: '4' });
      expect(patch.removedAt()).toBe('now()');
      expect(accounts.removeMembership).toHaveBeenCalledWith('u4@example.com', '7', tx);
      expectSessionsEnded('4');
    });

    it.each([
      ['an admin', '2', '3'],
      ['the owner', '2', '1'],
    ])('should refuse an admin removing %s with FORBIDDEN', async (_, by, target) => {
      await expect(inTenant(() => service.remove(actor(by), target))).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      expect(removed(target)).toBe(false);
      expectNothingChanged();
    });

    it('should refuse a member removing another member', async () => {
      await expect(inTenant(() => service.remove(actor('4'), '5'))).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      expectNothingChanged();
    });

    it('should let an owner remove an admin', async () => {
      await inTenant(() => service.remove(actor('1'), '2'));
      expect(removed('2')).toBe(true);
      expectSessionsEnded('2');
    });

    it('should refuse removing the last owner with LAST_OWNER', async () => {
      await expect(inTenant(() => service.remove(actor('1'), '1'))).rejects.toMatchObject({
        code: 'LAST_OWNER',
      });
      expectNothingChanged();
    });

    it('should answer USER_NOT_FOUND for a member already removed', async () => {
      team.get('4')!.removedAt = new Date(0);
      await expect(inTenant(() => service.remove(actor('1'), '4'))).rejects.toMatchObject({
        code: 'USER_NOT_FOUND',
      });
      expectNothingChanged();
    });
  });

  describe('leave', () => {
    it('should let a member leave like a removal of themselves', async () => {
      await inTenant(() => service.leave(actor('5')));
      expect(removed('5')).toBe(true);
      expect(accounts.removeMembership).toHaveBeenCalledWith('u5@example.com', '7', tx);
      expectSessionsEnded('5');
    });

    it('should refuse the last owner leaving with LAST_OWNER', async () => {
      await expect(inTenant(() => service.leave(actor('1')))).rejects.toMatchObject({
        code: 'LAST_OWNER',
      });
      expectNothingChanged();
    });

    it('should let an owner leave when another owner remains', async () => {
      team.get('3')!.role = 'owner';
      await inTenant(() => service.leave(actor('1')));
      expect(removed('1')).toBe(true);
    });
  });

  describe('claims', () => {
    /** What happened, in order, with the tenant in context at the time. */
    let log: string[];
    const scope = () => context.current()?.tenantId ?? 'none';

    beforeEach(() => {
      log = [];
      const update = repository.update.getMockImplementation()!;
      repository.update.mockImplementation((where: Where<UserEntity>, patch: Patch<UserEntity>) => {
        log.push(`update ${where.id as string} in ${scope()}`);
        return update(where, patch) as Promise<UserEntity[]>;
      });
      sessions.revokeSubject.mockImplementation((subject: { tenantId: string; id: string }) => {
        log.push(`revoke ${subject.tenantId}/${subject.id} in ${scope()}`);
        return Promise.resolve();
      });
    });

    describe('closeUnproven', () => {
      const unproven = [
        { tenantId: '7', userId: '4' },
        { tenantId: '8', userId: '30' },
      ];

      it('should close every membership in its own tenant and end its sessions', async () => {
        await service.closeUnproven(unproven, tx);
        expect(log).toEqual([
          'update 4 in 7',
          'revoke 7/4 in 7',
          'update 30 in 8',
          'revoke 8/30 in 8',
        ]);
        expect(removed('4')).toBe(true);
        expect(scoped.for).toHaveBeenCalledWith(UserEntity, tx);
        const [where, patch] = repository.update.mock.calls[0] as [
          object,
          { removedAt: () => string },
        ];
        expect(where).toEqual({ id: '4', removedAt: IsNull() });
        expect(patch.removedAt()).toBe('now()');
        expect(sessions.revokeSubject.mock.calls).toEqual([
          [{ tenantId: '7', kind: 'user', id: '4' }, tx],
          [{ tenantId: '8', kind: 'user', id: '30' }, tx],
        ]);
        expect(context.current()).toBeUndefined();
      });

      it('should close even the last owner: the unproven holder never owned anything', async () => {
        await service.closeUnproven([{ tenantId: '7', userId: '1' }], tx);
        expect(removed('1')).toBe(true);
        expect(repository.find).not.toHaveBeenCalled();
        expect(tx.query).not.toHaveBeenCalled();
      });

      it('should leave the directory to accounts', async () => {
        await service.closeUnproven(unproven, tx);
        expect(accounts.removeMembership).not.toHaveBeenCalled();
      });

      it('should keep the removal time of a member removed before', async () => {
        const earlier = new Date(0);
        team.get('5')!.removedAt = earlier;
        await service.closeUnproven([{ tenantId: '7', userId: '5' }], tx);
        expect(team.get('5')?.removedAt).toBe(earlier);
      });

      it('should do nothing for no memberships', async () => {
        await service.closeUnproven([], tx);
        expectNothingChanged();
      });
    });

    describe('openClaimed', () => {
      it("should make the claimed member active in the claim's tenant", async () => {
        team.get('5')!.removedAt = new Date(0);
        await service.openClaimed({ tenantId: '7', userId: '5' }, tx);
        expect(team.get('5')?.removedAt).toBeNull();
        expect(repository.update).toHaveBeenCalledWith({ id: '5' }, { removedAt: null });
        expect(scoped.for).toHaveBeenCalledWith(UserEntity, tx);
        expect(log).toEqual(['update 5 in 7']);
        expect(sessions.revokeSubject).not.toHaveBeenCalled();
        expect(context.current()).toBeUndefined();
      });

      it('should answer TOKEN_INVALID when the claimed member is not there', async () => {
        const error = await service
          .openClaimed({ tenantId: '7', userId: '99' }, tx)
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(AppError);
        expect(error).toMatchObject({ code: 'TOKEN_INVALID' });
      });
    });
  });

  describe('invitations of a member whose standing changes', () => {
    it("should revoke a demoted admin's pending invitations, in the transaction, keeping used and expired ones", async () => {
      stored = [
        invitation('2', 'member'),
        invitation('2', 'member', 'used'),
        invitation('2', 'member', 'expired'),
        invitation('3', 'member'),
      ];
      await inTenant(() => service.changeRole(actor('1'), '2', 'member'));
      expect(left()).toEqual(['2 member used', '2 member expired', '3 member pending']);
      expect(scoped.for).toHaveBeenCalledWith(InvitationEntity, tx);
      expect(invitations.delete).toHaveBeenCalledWith({
        createdBy: '2',
        role: 'member',
        usedAt: IsNull(),
        expiresAt: MoreThan(expect.any(Date)),
      });
    });

    it('should revoke only the admin invitations of an owner stepping down to admin', async () => {
      team.get('3')!.role = 'owner';
      stored = [
        invitation('1', 'admin'),
        invitation('1', 'member'),
        invitation('1', 'admin', 'used'),
      ];
      await inTenant(() => service.changeRole(actor('3'), '1', 'admin'));
      expect(left()).toEqual(['1 member pending', '1 admin used']);
    });

    it('should revoke every pending invitation of an owner demoted to member', async () => {
      team.get('3')!.role = 'owner';
      stored = [invitation('1', 'admin'), invitation('1', 'member')];
      await inTenant(() => service.changeRole(actor('3'), '1', 'member'));
      expect(left()).toEqual([]);
    });

    it('should keep what a promoted member may still invite', async () => {
      stored = [invitation('2', 'member'), invitation('4', 'member')];
      await inTenant(() => service.changeRole(actor('1'), '2', 'owner'));
      expect(invitations.delete).not.toHaveBeenCalled();
      await inTenant(() => service.changeRole(actor('1'), '4', 'admin'));
      expect(left()).toEqual(['2 member pending', '4 member pending']);
    });

    it("should revoke a removed admin's pending invitations, keeping the used ones", async () => {
      stored = [invitation('2', 'member'), invitation('2', 'member', 'used')];
      await inTenant(() => service.remove(actor('1'), '2'));
      expect(left()).toEqual(['2 member used']);
    });

    it('should revoke the pending invitations of an owner who leaves', async () => {
      team.get('3')!.role = 'owner';
      stored = [invitation('1', 'admin'), invitation('1', 'member'), invitation('3', 'admin')];
      await inTenant(() => service.leave(actor('1')));
      expect(left()).toEqual(['3 admin pending']);
    });

    it('should revoke nothing when the change is refused', async () => {
      stored = [invitation('1', 'admin')];
      await expect(inTenant(() => service.leave(actor('1')))).rejects.toMatchObject({
        code: 'LAST_OWNER',
      });
      expect(left()).toEqual(['1 admin pending']);
    });

    it('should revoke the pending invitations of each closed unproven membership, in its tenant', async () => {
      stored = [
        invitation('1', 'admin'),
        invitation('1', 'member', 'used'),
        invitation('30', 'member', 'pending', '8'),
        // Same user id in another tenant: another person, untouched.
        invitation('1', 'member', 'pending', '8'),
      ];
      await service.closeUnproven(
        [
          { tenantId: '7', userId: '1' },
          { tenantId: '8', userId: '30' },
        ],
        tx,
      );
      expect(left('7')).toEqual(['1 member used']);
      expect(left('8')).toEqual(['1 member pending']);
    });
  });

  describe('actor', () => {
    it('should answer UNAUTHENTICATED for an actor who is no longer a member', async () => {
      team.get('2')!.removedAt = new Date(0);
      await expect(
        inTenant(() => service.changeRole(actor('2', 'owner'), '4', 'admin')),
      ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      expectNothingChanged();
    });
  });

  describe('asMember', () => {
    it('should run the work under the members lock, with the stored actor and the transaction', async () => {
      team.get('2')!.role = 'member';
      const work = jest.fn((me: UserEntity, manager: EntityManager) => {
        expect(tx.query).toHaveBeenCalledWith(
          `SELECT pg_advisory_xact_lock(hashtext('members:' || $1::text))`,
          ['7'],
        );
        expect(manager).toBe(tx);
        return Promise.resolve(me.role);
      });
      await expect(inTenant(() => service.asMember(actor('2', 'admin'), work))).resolves.toBe(
        'member',
      );
      expect(users.get).toHaveBeenCalledWith('2', tx);
    });

    it('should answer UNAUTHENTICATED without running the work for a removed actor', async () => {
      team.get('2')!.removedAt = new Date(0);
      const work = jest.fn();
      await expect(
        inTenant(() => service.asMember(actor('2', 'admin'), work)),
      ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(work).not.toHaveBeenCalled();
    });
  });

  it("should serialise changes with a lock on the tenant's members, in the transaction", async () => {
    await inTenant(() => service.leave(actor('5')));
    expect(tx.query).toHaveBeenCalledWith(
      `SELECT pg_advisory_xact_lock(hashtext('members:' || $1::text))`,
      ['7'],
    );
    expect(scoped.for).toHaveBeenCalledWith(UserEntity, tx);
    expect(users.get).toHaveBeenCalledWith('5', tx);
  });

  it('should refuse to work outside a tenant scope', async () => {
    await expect(service.leave(actor('5'))).rejects.toThrow(TenantContextMissingError);
    expectNothingChanged();
  });
});
