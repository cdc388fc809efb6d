import { createHash } from 'node:crypto';
import { EntityManager, FindOperator, IsNull } from 'typeorm';
import { GlobalRepositories } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { EmailTokenEntity } from './email-token.entity';
import { EmailTokensService, mailSpacingMs, TOKEN_LIFETIME_MS } from './email-tokens.service';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const b64 = (text: string) => Buffer.from(text).toString('base64url');
const SECRET = 'S'.repeat(43);
const EMAIL = 'alice@example.com';

/** A row as `UPDATE ... RETURNING *` hands it back: column names, bigints as strings. */
const raw = (values: Record<string, unknown> = {}) => ({
  email: EMAIL,
  token_hash: 'h',
  purpose: 'verify',
  claim_password_hash: null,
  claim_tenant_id: null,
  claim_user_id: null,
  ...values,
});

describe(EmailTokensService.name, () => {
  const tx = { queryRunner: {} } as unknown as EntityManager;
  let builder: {
    update: jest.Mock;
    set: jest.Mock;
    where: jest.Mock;
    returning: jest.Mock;
    execute: jest.Mock;
  };
  let tokens: {
    insert: jest.Mock;
    update: jest.Mock;
    create: jest.Mock;
    findOne: jest.Mock;
    createQueryBuilder: jest.Mock;
  };
  let global: { for: jest.Mock };
  let service: EmailTokensService;

  beforeEach(() => {
    builder = {
      update: jest.fn().mockReturnThis(),
      set: jest.fn().mockReturnThis(),
      where: jest.fn().mockReturnThis(),
      returning: jest.fn().mockReturnThis(),
      execute: jest.fn(() => Promise.resolve({ raw: [] })),
    };
    tokens = {
      insert: jest.fn(() => Promise.resolve({})),
      update: jest.fn(() => Promise.resolve({})),
      create: jest.fn((values: Partial<EmailTokenEntity>) => values),
      findOne: jest.fn(() => Promise.resolve(null)),
      createQueryBuilder: jest.fn(() => builder),
    };
    global = { for: jest.fn(() => tokens) };
    service = new EmailTokensService(global as unknown as GlobalRepositories);
  });

  const stored = () => (tokens.insert.mock.calls[0] as [EmailTokenEntity])[0];

  describe('issue', () => {
    it('should hand out `<secret>.<base64url(email)>` and store only its sha256', async () => {
      const token = await service.issue(EMAIL, 'verify', tx);
      expect(token).toMatch(/^[\w-]{43}\.[\w-]+$/);
      expect(token.split('.')[1]).toBe(b64(EMAIL));
      expect(global.for).toHaveBeenCalledWith(EmailTokenEntity, tx);
      expect(stored()).toMatchObject({ email: EMAIL, tokenHash: sha256(token), purpose: 'verify' });
      expect(JSON.stringify(stored())).not.toContain(token.split('.')[0]);
    });

    it('should hand out a different token every time', async () => {
      const first = await service.issue(EMAIL, 'reset');
      const second = await service.issue(EMAIL, 'reset');
      expect(second).not.toBe(first);
    });

    it.each([
      ['verify', 24 * 3600_000],
      ['reset', 3600_000],
    ] as const)('should let a %s token live %i ms', async (purpose, lifetime) => {
      expect(TOKEN_LIFETIME_MS[purpose]).toBe(lifetime);
      const before = Date.now();
      await service.issue(EMAIL, purpose);
      const expiresAt = stored().expiresAt.getTime();
      expect(expiresAt).toBeGreaterThanOrEqual(before + lifetime);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + lifetime);
    });

    it('should store a waiting registration with its token, and none without one', async () => {
      await service.issue(EMAIL, 'verify', tx, {
        passwordHash: '$2b$h',
        tenantId: '9',
        userId: '55',
      });
      expect(stored()).toMatchObject({
        claimPasswordHash: '$2b$h',
        claimTenantId: '9',
        claimUserId: '55',
      });
      tokens.insert.mockClear();
      await service.issue(EMAIL, 'verify', tx);
      expect(stored()).toMatchObject({
        claimPasswordHash: null,
        claimTenantId: null,
        claimUserId: null,
      });
    });
  });

  describe('consume', () => {
    it('should mark an unused, unexpired token of that purpose used, found by its email and hash', async () => {
      const token = `${SECRET}.${b64(EMAIL)}`;
      builder.execute.mockResolvedValue({ raw: [raw({ token_hash: sha256(token) })] });
      const used = await service.consume(token, 'verify', tx);
      expect(global.for).toHaveBeenCalledWith(EmailTokenEntity, tx);
      const [where] = builder.where.mock.calls[0] as [Record<string, unknown>];
      expect(where).toEqual({
        email: EMAIL,
        tokenHash: sha256(token),
        purpose: 'verify',
        usedAt: IsNull(),
        expiresAt: expect.any(Object),
      });
      const expiry = where.expiresAt as FindOperator<Date>;
      expect(expiry.type).toBe('moreThan');
      expect(Math.abs(expiry.value.getTime() - Date.now())).toBeLessThan(1000);
      const [patch] = builder.set.mock.calls[0] as [{ usedAt: () => string }];
      expect(patch.usedAt()).toBe('now()');
      expect(used).toMatchObject({ email: EMAIL, purpose: 'verify', claimTenantId: null });
    });

    it('should answer the claim the token carries', async () => {
      builder.execute.mockResolvedValue({
        raw: [raw({ claim_password_hash: '$2b$h', claim_tenant_id: '9', claim_user_id: '55' })],
      });
      const used = await service.consume(`${SECRET}.${b64(EMAIL)}`, 'verify', tx);
      expect(used).toMatchObject({
        claimPasswordHash: '$2b$h',
        claimTenantId: '9',
        claimUserId: '55',
      });
    });

    it('should answer TOKEN_INVALID for a used, expired, unknown or other-purpose token', async () => {
      const error = await service
        .consume(`${SECRET}.${b64(EMAIL)}`, 'reset', tx)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'TOKEN_INVALID' });
      expect(builder.where).toHaveBeenCalledWith(expect.objectContaining({ purpose: 'reset' }));
    });

    it.each([
      ['empty', ''],
      ['no email part', SECRET],
      ['short secret', `${'S'.repeat(42)}.${b64(EMAIL)}`],
      ['bad secret character', `${'S'.repeat(42)}!.${b64(EMAIL)}`],
      ['email without @', `${SECRET}.${b64('alice.example.com')}`],
      ['extra part', `${SECRET}.${b64(EMAIL)}.x`],
    ])('should refuse a malformed token (%s) without a query', async (_, token) => {
      await expect(service.consume(token, 'verify', tx)).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
      expect(global.for).not.toHaveBeenCalled();
      expect(builder.execute).not.toHaveBeenCalled();
    });
  });

  describe('emailOf', () => {
    const token = `${SECRET}.${b64(EMAIL)}`;

    it('should answer the email of a live token of that purpose, using nothing', async () => {
      tokens.findOne.mockResolvedValue({ email: EMAIL, purpose: 'reset' });
      await expect(service.emailOf(token, 'reset')).resolves.toBe(EMAIL);
      expect(global.for).toHaveBeenCalledWith(EmailTokenEntity);
      const [{ where }] = tokens.findOne.mock.calls[0] as [{ where: Record<string, unknown> }];
      expect(where).toEqual({
        email: EMAIL,
        tokenHash: sha256(token),
        purpose: 'reset',
        usedAt: IsNull(),
        expiresAt: expect.any(Object),
      });
      const expiry = where.expiresAt as FindOperator<Date>;
      expect(expiry.type).toBe('moreThan');
      expect(Math.abs(expiry.value.getTime() - Date.now())).toBeLessThan(1000);
      expect(builder.execute).not.toHaveBeenCalled();
      expect(tokens.update).not.toHaveBeenCalled();
    });

    it('should answer TOKEN_INVALID for a well-formed token without a live row', async () => {
      const error = await service.emailOf(token, 'reset').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'TOKEN_INVALID' });
      expect(tokens.findOne).toHaveBeenCalledTimes(1);
    });

    it.each([
      ['empty', ''],
      ['no email part', SECRET],
      ['short secret', `${'S'.repeat(42)}.${b64(EMAIL)}`],
      ['email without @', `${SECRET}.${b64('alice.example.com')}`],
      ['extra part', `${SECRET}.${b64(EMAIL)}.x`],
    ])('should refuse a malformed token (%s) without a query', async (_, malformed) => {
      await expect(service.emailOf(malformed, 'reset')).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
      expect(global.for).not.toHaveBeenCalled();
      expect(tokens.findOne).not.toHaveBeenCalled();
    });
  });

  describe('revokeAll', () => {
    it('should mark every unused token of the email for that purpose used', async () => {
      await service.revokeAll(EMAIL, 'verify', tx);
      expect(global.for).toHaveBeenCalledWith(EmailTokenEntity, tx);
      const [where, patch] = tokens.update.mock.calls[0] as [object, { usedAt: () => string }];
      expect(where).toEqual({ email: EMAIL, purpose: 'verify', usedAt: IsNull() });
      expect(patch.usedAt()).toBe('now()');
    });
  });
});

describe(mailSpacingMs.name, () => {
  it('should send a second mail at once, then wait a minute, twice as long each time, at most an hour', () => {
    const minutes = [0, 1, 2, 3, 4, 6, 7, 8, 50].map((sent) => mailSpacingMs(sent) / 60_000);
    expect(minutes).toEqual([0, 0, 1, 2, 4, 16, 32, 60, 60]);
  });

  it('should never wait longer than a reset token lives, so the owner always holds a live one', () => {
    for (let sent = 0; sent < 100; sent += 1) {
      expect(mailSpacingMs(sent)).toBeLessThanOrEqual(TOKEN_LIFETIME_MS.reset);
    }
  });
});
