import { LiveAccess } from '../database/live-access';
import { createHash } from 'node:crypto';
import { EntityManager, FindOperator, IsNull } from 'typeorm';
import { AppConfig, loadConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { TenantContext } from '../tenancy/tenant-context';
import { Patch, TenantScopedRepositoryFactory, Where } from '../tenancy/tenant-scoped.repository';
import { SessionEntity } from './session.entity';
import { SessionsService, Subject } from './sessions.service';

const config: AppConfig = loadConfig({
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u@localhost/db',
  BCRYPT_COST: '4',
  REFRESH_TTL_SECONDS: '7200',
});

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const member: Subject = { tenantId: '7', kind: 'user', id: '42' };

function matches(row: SessionEntity, where: Where<SessionEntity>): boolean {
  return Object.entries(where).every(([key, wanted]) => {
    const value: unknown = row[key as keyof SessionEntity];
    if (wanted instanceof FindOperator) {
      if (wanted.type !== 'isNull') throw new Error(`fake: unsupported operator ${wanted.type}`);
      return value === null;
    }
    return value === wanted;
  });
}

/** The two raw SQL values the service writes: `now()` and `<column> + 1`. */
function raw(row: SessionEntity, sql: string): unknown {
  if (sql === 'now()') return new Date();
  const increment = /^(\w+) \+ 1$/.exec(sql);
  if (increment) return Number(row[increment[1] as keyof SessionEntity]) + 1;
  throw new Error(`fake: unsupported raw value ${sql}`);
}

/** The sessions table of a scoped repository, kept in memory; rows of other tenants are not seen. */
function fakeSessions(context: TenantContext) {
  const rows: SessionEntity[] = [];
  const visible = () => {
    const { tenantId } = context.require('sessions');
    return rows.filter((row) => row.tenantId === tenantId);
  };
  return {
    rows,
    insert: jest.fn((values: Partial<SessionEntity>) => {
      const row = {
        ...values,
        tenantId: context.require('sessions.insert').tenantId,
        id: String(rows.length + 1),
        revokedAt: null,
        rotatedAt: null,
        createdAt: new Date(),
      } as SessionEntity;
      rows.push(row);
      return Promise.resolve(row);
    }),
    findOne: jest.fn((where: Where<SessionEntity>) =>
      Promise.resolve(visible().find((row) => matches(row, where)) ?? null),
    ),
    update: jest.fn((where: Where<SessionEntity>, patch: Patch<SessionEntity>) => {
      const changed = visible().filter((row) => matches(row, where));
      for (const row of changed) {
        for (const [key, value] of Object.entries(patch)) {
          Object.assign(row, { [key]: typeof value === 'function' ? raw(row, value()) : value });
        }
      }
      return Promise.resolve(changed.map((row) => ({ ...row })));
    }),
  };
}

describe(SessionsService.name, () => {
  const context = new TenantContext();
  const tx = { queryRunner: {} } as unknown as EntityManager;
  let sessions: ReturnType<typeof fakeSessions>;
  let factory: { for: jest.Mock };
  let service: SessionsService;
  const live = { forgetTenant: jest.fn() };

  beforeEach(() => {
    sessions = fakeSessions(context);
    factory = { for: jest.fn(() => sessions) };
    service = new SessionsService(
      factory as unknown as TenantScopedRepositoryFactory,
      context,
      config,
      live as unknown as LiveAccess,
    );
  });

  describe('start', () => {
    it('should issue a signed `<tenant>.<family>.0.<secret>` token and store only its hash, in its tenant', async () => {
      const before = Date.now();
      const issued = await service.start(member, tx);
      expect(issued.refreshToken).toMatch(/^7\.[\w-]{22}\.0\.[\w-]{43}$/);
      expect(issued.refreshToken.split('.')[1]).toBe(issued.family);
      expect(issued.refreshExpiresIn).toBe(7200);
      expect(factory.for).toHaveBeenCalledWith(SessionEntity, tx);
      const [row] = sessions.rows;
      expect(row).toMatchObject({ tenantId: '7', subjectKind: 'user', subjectId: '42' });
      expect(row.generation).toBe(0);
      expect(row.tokenHash).toBe(sha256(issued.refreshToken));
      expect(JSON.stringify(row)).not.toContain(issued.refreshToken.split('.')[3]);
      expect(row.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 7200_000);
      expect(row.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 7200_000);
    });

    it('should start a new family at every login', async () => {
      const first = await service.start(member);
      const second = await service.start(member);
      expect(second.family).not.toBe(first.family);
    });
  });

  describe('rotate', () => {
    it('should exchange a token for a new one of the same session', async () => {
      const issued = await service.start(member);
      const rotated = await service.rotate(issued.refreshToken);
      expect(rotated.refreshToken).not.toBe(issued.refreshToken);
      expect(rotated.refreshToken).toMatch(new RegExp(`^7\\.${issued.family}\\.1\\.[\\w-]{43}$`));
      expect(rotated).toMatchObject({ family: issued.family, subject: member });
      expect(rotated.refreshExpiresIn).toBeGreaterThan(7190);
      expect(sessions.update).toHaveBeenCalledWith(
        {
          family: issued.family,
          generation: 0,
          tokenHash: sha256(issued.refreshToken),
          revokedAt: IsNull(),
        },
        expect.objectContaining({ generation: 1, tokenHash: sha256(rotated.refreshToken) }),
      );
      expect(sessions.rows[0]).toMatchObject({
        generation: 1,
        tokenHash: sha256(rotated.refreshToken),
      });
      await expect(service.rotate(rotated.refreshToken)).resolves.toMatchObject({
        family: issued.family,
      });
    });

    it('should give a retry of a refresh, just after it, the same token again', async () => {
      const issued = await service.start(member);
      const first = await service.rotate(issued.refreshToken);
      const retry = await service.rotate(issued.refreshToken);
      expect(retry).toMatchObject({ family: issued.family, refreshToken: first.refreshToken });
      expect(sessions.rows[0].revokedAt).toBeNull();
      // The session goes on from that token.
      await expect(service.rotate(first.refreshToken)).resolves.toMatchObject({
        family: issued.family,
      });
    });

    it('should end the session for a retry once the session has moved past its answer', async () => {
      const issued = await service.start(member);
      const first = await service.rotate(issued.refreshToken);
      await service.rotate(first.refreshToken);
      await expect(service.rotate(issued.refreshToken)).rejects.toMatchObject({
        code: 'SESSION_REVOKED',
      });
    });

    it('should answer a replaced token with SESSION_REVOKED and end the whole session', async () => {
      const issued = await service.start(member);
      const rotated = await service.rotate(issued.refreshToken);
      // Past the retry grace (REFRESH_RETRY_GRACE_SECONDS, 10 s by default).
      sessions.rows[0].rotatedAt = new Date(Date.now() - 11_000);
      sessions.update.mockClear();

      const error = await service.rotate(issued.refreshToken).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'SESSION_REVOKED' });
      expect(sessions.update).toHaveBeenCalledTimes(2);
      expect(sessions.update).toHaveBeenLastCalledWith(
        { family: issued.family },
        { revokedAt: expect.any(Function) },
      );
      expect(sessions.rows[0].revokedAt).toBeInstanceOf(Date);
      // The newest token of that session is no good either now.
      await expect(service.rotate(rotated.refreshToken)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
    });

    it('should read the session in the tenant the token names', async () => {
      const issued = await service.start(member);
      const scopes: Array<string | undefined> = [];
      sessions.update.mockImplementationOnce(() => {
        scopes.push(context.current()?.tenantId);
        return Promise.resolve([]);
      });
      await service.rotate(issued.refreshToken).catch(() => undefined);
      expect(scopes).toEqual(['7']);
      const elsewhere = issued.refreshToken.replace(/^7\./, '8.');
      await expect(service.rotate(elsewhere)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    });

    it.each([
      ['empty', ''],
      ['no dots', 'x'.repeat(80)],
      ['no generation (the old format)', `7.${'f'.repeat(22)}.${'s'.repeat(43)}`],
      ['short family', `7.${'f'.repeat(21)}.0.${'s'.repeat(43)}`],
      ['short mac', `7.${'f'.repeat(22)}.0.${'s'.repeat(42)}`],
      ['tenant with a leading zero', `07.${'f'.repeat(22)}.0.${'s'.repeat(43)}`],
      ['tenant that is not a number', `t.${'f'.repeat(22)}.0.${'s'.repeat(43)}`],
      ['generation with a leading zero', `7.${'f'.repeat(22)}.01.${'s'.repeat(43)}`],
      ['negative generation', `7.${'f'.repeat(22)}.-1.${'s'.repeat(43)}`],
      ['extra part', `7.${'f'.repeat(22)}.0.${'s'.repeat(43)}.x`],
      ['bad character', `7.${'f'.repeat(22)}.0.${'s'.repeat(42)}=`],
      ['wrong mac', `7.${'f'.repeat(22)}.0.${'s'.repeat(43)}`],
    ])(
      'should refuse a malformed or unsigned token (%s) as UNAUTHENTICATED without a query',
      async (_, token) => {
        await expect(service.rotate(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
        expect(factory.for).not.toHaveBeenCalled();
        expect(sessions.update).not.toHaveBeenCalled();
        expect(sessions.findOne).not.toHaveBeenCalled();
      },
    );

    it('should refuse tokens signed under another secret, ending nothing', async () => {
      const issued = await service.start(member);
      const otherConfig = { ...config, jwt: { ...config.jwt, secret: 'x'.repeat(48) } };
      const other = new SessionsService(
        factory as unknown as TenantScopedRepositoryFactory,
        context,
        otherConfig,
        live as unknown as LiveAccess,
      );
      sessions.update.mockClear();
      await expect(other.rotate(issued.refreshToken)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
      expect(sessions.update).not.toHaveBeenCalled();
      await expect(service.rotate(issued.refreshToken)).resolves.toBeDefined();
    });

    it('should not end a session for a token naming it but never issued (a later generation)', async () => {
      const issued = await service.start(member);
      // A signed token of a generation the session has not reached cannot come from this
      // service; even so, it is refused and ends nothing.
      const ahead = await service.rotate((await service.rotate(issued.refreshToken)).refreshToken);
      sessions.rows[0].generation = 0;
      await expect(service.rotate(ahead.refreshToken)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
      expect(sessions.rows[0].revokedAt).toBeNull();
    });

    it('should refuse, without ending the session, a current-generation token that is not the current one', async () => {
      const issued = await service.start(member);
      // What only a holder of the key could make: a second signed token of generation 0.
      const signer = service as unknown as {
        newToken(tenantId: string, family: string, generation: number): string;
      };
      const twin = signer.newToken('7', issued.family, 0);
      expect(twin).not.toBe(issued.refreshToken);
      await expect(service.rotate(twin)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(sessions.update).toHaveBeenCalledTimes(1);
      expect(sessions.rows[0]).toMatchObject({ generation: 0, revokedAt: null });
      await expect(service.rotate(issued.refreshToken)).resolves.toBeDefined();
    });

    it('should answer UNAUTHENTICATED for a signed token of no session, ending nothing', async () => {
      const issued = await service.start(member);
      sessions.rows.length = 0;
      sessions.update.mockClear();
      await expect(service.rotate(issued.refreshToken)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
      expect(sessions.update).toHaveBeenCalledTimes(1);
    });

    it('should answer UNAUTHENTICATED for an expired session, without calling it reuse', async () => {
      const issued = await service.start(member);
      sessions.rows[0].expiresAt = new Date(Date.now() - 1000);
      sessions.update.mockClear();
      await expect(service.rotate(issued.refreshToken)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
      expect(sessions.update).toHaveBeenCalledTimes(1);
      expect(sessions.rows[0].revokedAt).toBeNull();
    });

    it('should answer UNAUTHENTICATED for a token of a revoked session', async () => {
      const issued = await service.start(member);
      await service.revokeFamily('7', issued.family);
      // This process forgets what it knew of the tenant's live sessions at once.
      expect(live.forgetTenant).toHaveBeenCalledWith('7');
      await expect(service.rotate(issued.refreshToken)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
    });
  });

  describe('revoke', () => {
    it('should end one session by family, in its tenant and transaction', async () => {
      const one = await service.start(member);
      const other = await service.start(member);
      await service.revokeFamily('7', one.family, tx);
      expect(factory.for).toHaveBeenLastCalledWith(SessionEntity, tx);
      expect(sessions.rows.map((row) => row.revokedAt !== null)).toEqual([true, false]);
      await expect(service.rotate(other.refreshToken)).resolves.toBeDefined();
    });

    it("should end every session of one subject and nobody else's", async () => {
      await service.start(member);
      await service.start(member);
      await service.start({ ...member, id: '43' });
      await service.start({ ...member, tenantId: '8' });
      await service.revokeSubject(member, tx);
      expect(sessions.update).toHaveBeenLastCalledWith(
        { subjectKind: 'user', subjectId: '42', revokedAt: IsNull() },
        { revokedAt: expect.any(Function) },
      );
      expect(sessions.rows.map((row) => row.revokedAt !== null)).toEqual([
        true,
        true,
        false,
        false,
      ]);
    });
  });
});
