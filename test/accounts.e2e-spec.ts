import { performance } from 'node:perf_hooks';
import * as bcrypt from 'bcrypt';
import {
  bearer,
  Http,
  invite,
  login,
  PASSWORD,
  register,
  unique,
  useTestApp,
  verifyEmail,
} from './harness/e2e';
import { plainText } from '../tools/mail/sink';
import { latestToken, mailsTo } from './harness/mail';

jest.mock('bcrypt', () => {
  const actual = jest.requireActual<typeof import('bcrypt')>('bcrypt');
  return {
    ...actual,
    compare: jest.fn((data: string, hash: string) => actual.compare(data, hash)),
    hash: jest.fn((data: string, rounds: number) => actual.hash(data, rounds)),
  };
});
const compares = bcrypt.compare as unknown as jest.Mock;
const hashes = bcrypt.hash as unknown as jest.Mock;

/** One identity per person: accounts, verification, claims, resets and password rules. */
describe('Accounts (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();

  const signUp = (email: string, password = PASSWORD, extra: Record<string, unknown> = {}) =>
    http()
      .post('/api/v1/auth/register')
      .send({ tenantName: unique('T'), username: unique('u'), email, password, ...extra });

  it('should log an email in with one bcrypt check whether it is in 1 tenant or in 40', async () => {
    const email = `${unique('many')}@example.com`;
    await signUp(email).expect(201);
    await verifyEmail(http, email);
    compares.mockClear();
    await http().post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200);
    expect(compares).toHaveBeenCalledTimes(1);

    for (let i = 1; i < 40; i += 1) await signUp(email).expect(201);
    compares.mockClear();
    const choice = await http()
      .post('/api/v1/auth/login')
      .send({ email, password: PASSWORD })
      .expect(409);
    expect(choice.body.tenants).toHaveLength(40);
    expect(compares).toHaveBeenCalledTimes(1);
    compares.mockClear();
    await http()
      .post('/api/v1/auth/login')
      .send({ email, password: PASSWORD, tenant: choice.body.tenants[7].id })
      .expect(200);
    expect(compares).toHaveBeenCalledTimes(1);
  });

  it('should keep 40 strangers registering a verified email out, and its login at one bcrypt', async () => {
    const email = `${unique('victim')}@example.com`;
    await signUp(email).expect(201);
    await verifyEmail(http, email);
    for (let i = 0; i < 40; i += 1) {
      const squat = await signUp(email, `squatter password ${i}`).expect(409);
      expect(squat.body.code).toBe('ACCOUNT_EXISTS');
    }
    compares.mockClear();
    await http().post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200);
    expect(compares).toHaveBeenCalledTimes(1);
  });

  it('should mail a single-use verification token and refuse it when spent or expired', async () => {
    const email = `${unique('verify')}@example.com`;
    const created = await signUp(email).expect(201);
    expect(created.body.account).toEqual({ emailVerified: false, loginOpen: true });
    const mail = mailsTo(email).pop() ?? '';
    expect(mail).toMatch(/^Subject: Confirm your email address/m);
    const token = latestToken(email, 'Confirm your email');
    const verified = await http().post('/api/v1/auth/verify-email').send({ token }).expect(200);
    expect(verified.body).toEqual({ email, claimed: false });
    const again = await http().post('/api/v1/auth/verify-email').send({ token }).expect(400);
    expect(again.body.code).toBe('TOKEN_INVALID');

    const late = `${unique('late')}@example.com`;
    await signUp(late).expect(201);
    await ctx.db.query(
      `UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE email = $1`,
      [late],
    );
    await http()
      .post('/api/v1/auth/verify-email')
      .send({ token: latestToken(late, 'Confirm your email') })
      .expect(400);
    await http()
      .post('/api/v1/auth/verify-email')
      .send({ token: 'x'.repeat(43) + '.' + Buffer.from(late).toString('base64url') })
      .expect(400);
  });

  it('should not let an unverified email join a second tenant, nor by invitation', async () => {
    const owner = await register(http);
    const email = `${unique('unverified')}@example.com`;
    await signUp(email).expect(201);
    const second = await signUp(email).expect(403);
    expect(second.body.code).toBe('EMAIL_NOT_VERIFIED');
    const invited = await signUp(email, PASSWORD, {
      tenantName: owner.tenant.name,
      inviteCode: await invite(http, owner.token),
    }).expect(403);
    expect(invited.body.code).toBe('EMAIL_NOT_VERIFIED');
  });

  it('should not let an unverified email join several tenants at once', async () => {
    // An unverified account with no membership left (removed from the tenant it joined) may
    // join one tenant; six registrations sent together must not make that six.
    const owner = await register(http);
    const email = `${unique('several')}@example.com`;
    const joined = await signUp(email, PASSWORD, {
      tenantName: owner.tenant.name,
      inviteCode: await invite(http, owner.token),
    }).expect(201);
    await http()
      .delete(`/api/v1/users/${joined.body.user.id}`)
      .set(...bearer(owner.token))
      .expect(204);

    const answers = await Promise.all(Array.from({ length: 6 }, () => signUp(email)));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([201, 403, 403, 403, 403, 403]);
    for (const answer of answers.filter(({ status }) => status === 403)) {
      expect(answer.body.code).toBe('EMAIL_NOT_VERIFIED');
    }
    // One tenant: the login needs no choice.
    await login(http, email);
  });

  it('should send one address at most two mails however many registrations claim it, and quote the names they chose', async () => {
    const email = `${unique('flooded')}@example.com`;
    await signUp(email, 'the first password').expect(201);
    // Ten registrations in a few seconds, each claiming the unconfirmed address with a name of
    // its sender's choosing (issue 19: ten mails in one mailbox).
    const tenantName = `${unique('Acme')}" - urgent: your account is suspended, reply with your login details "`;
    for (let i = 0; i < 10; i += 1) {
      const claim = await signUp(email, `claimer password ${i}`, {
        tenantName: i === 0 ? tenantName : unique('T'),
      }).expect(201);
      expect(claim.body.account).toEqual({ emailVerified: false, loginOpen: false });
    }
    // Resets and resends right after come out of the same budget.
    await http().post('/api/v1/auth/password-reset').send({ email }).expect(202);
    await http().post('/api/v1/auth/verify-email/resend').send({ email }).expect(202);
    const mails = mailsTo(email).map(plainText);
    expect(mails).toHaveLength(2);
    // The sender's text is shown as a quoted, escaped string, never as the mail's own words.
    expect(mails[1]).toContain(`(tenant ${JSON.stringify(tenantName)})`);
  });

  it('should answer a wrong invitation alike, at the same cost, whether or not the email has an account', async () => {
    const confirmed = `${unique('confirmed')}@example.com`;
    await signUp(confirmed).expect(201);
    await verifyEmail(http, confirmed);
    const unconfirmed = `${unique('unconfirmed')}@example.com`;
    await signUp(unconfirmed).expect(201);
    const host = await register(http);
    const answers = [];
    for (const email of [confirmed, unconfirmed, `${unique('nobody')}@example.com`]) {
      for (const tenantName of [unique('New'), host.tenant.name]) {
        compares.mockClear();
        hashes.mockClear();
        const response = await signUp(email, PASSWORD, {
          tenantName,
          inviteCode: 'bogus-code-0123456789',
        });
        answers.push({
          status: response.status,
          body: response.body,
          bcrypt: compares.mock.calls.length + hashes.mock.calls.length,
        });
      }
    }
    for (const answer of answers) {
      expect(answer).toEqual({
        status: 403,
        body: expect.objectContaining({ code: 'INVITATION_INVALID' }) as unknown,
        bcrypt: 0,
      });
    }
    expect(new Set(answers.map((answer) => JSON.stringify(answer.body))).size).toBe(1);
  });

  it('should answer a reset and a new confirmation mail in the same time, account or not', async () => {
    const owner = await register(http);
    const unconfirmed = `${unique('unconfirmed')}@example.com`;
    await signUp(unconfirmed).expect(201);
    const nobody = `${unique('nobody')}@example.com`;
    const timed = async (route: string, email: string) => {
      const started = performance.now();
      await http()
        .post(`/api/v1/auth/${route}`)
        .send({ email })
        .expect(202, { status: 'accepted' });
      return performance.now() - started;
    };
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
    for (const [route, known] of [
      ['password-reset', owner.email],
      ['verify-email/resend', unconfirmed],
    ]) {
      const times: Record<'known' | 'unknown', number[]> = { known: [], unknown: [] };
      // Alternating, so the machine's noise falls on both alike; the first known one mails.
      for (let i = 0; i < 12; i += 1) {
        times.known.push(await timed(route, known));
        times.unknown.push(await timed(route, nobody));
      }
      for (const ms of [...times.known, ...times.unknown]) expect(ms).toBeGreaterThanOrEqual(245);
      const gap = Math.abs(median(times.known) - median(times.unknown));
      expect({ route, gapUnder10ms: gap < 10 }).toEqual({ route, gapUnder10ms: true });
    }
  });

  it('should let the mailbox owner take an email over from an unverified squatter', async () => {
    const email = `${unique('owner')}@example.com`;
    const squat = await signUp(email, 'the squatters password').expect(201);
    const squatterSession = await http()
      .post('/api/v1/auth/login')
      .send({ email, password: 'the squatters password' })
      .expect(200);

    const mine = await signUp(email, 'the real owners password').expect(201);
    expect(mine.body.account).toEqual({ emailVerified: false, loginOpen: false });
    await http()
      .post('/api/v1/auth/login')
      .send({ email, password: 'the real owners password' })
      .expect(401);

    const claimed = await http()
      .post('/api/v1/auth/verify-email')
      .send({ token: latestToken(email, 'Confirm your email') })
      .expect(200);
    expect(claimed.body).toEqual({ email, claimed: true });

    await http()
      .post('/api/v1/auth/login')
      .send({ email, password: 'the squatters password' })
      .expect(401);
    await http()
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: squatterSession.body.refreshToken })
      .expect(401);
    const owner = await http()
      .post('/api/v1/auth/login')
      .send({ email, password: 'the real owners password' })
      .expect(200);
    expect(owner.body.tenant.id).toBe(mine.body.tenant.id);
    expect(owner.body.tenant.id).not.toBe(squat.body.tenant.id);
  });

  it("should keep a claimed membership closed until confirmed, then close the squatter's", async () => {
    const host = await register(http);
    const hostCode = await invite(http, host.token);
    const emailsIn = async (token: string) => {
      const page = await http()
        .get('/api/v1/users')
        .set(...bearer(token))
        .expect(200);
      return (page.body.items as Array<{ email: string; role: string }>).map((user) => user.email);
    };

    const email = `${unique('claimed')}@example.com`;
    const squat = await signUp(email, 'the squatters password').expect(201);
    const squatter = await login(http, email, 'the squatters password', squat.body.tenant.id);
    const friend = await register(http, {
      tenantName: squat.body.tenant.name,
      inviteCode: await invite(http, squatter, 'admin'),
    });
    expect(await emailsIn(friend.token)).toContain(email);

    // The real owner joins the host's tenant; until the mailbox confirms, they are no member.
    await signUp(email, 'the real owners password', {
      tenantName: host.tenant.name,
      inviteCode: hostCode,
    }).expect(201);
    expect(await emailsIn(host.token)).not.toContain(email);
    const mail = plainText(mailsTo(email).pop() ?? '');
    expect(mail).toContain(`tenant "${host.tenant.name}"`);
    expect(mail).toContain('Confirm only if you made it yourself');

    await http()
      .post('/api/v1/auth/verify-email')
      .send({ token: latestToken(email, 'Confirm your email') })
      .expect(200);
    expect(await emailsIn(host.token)).toContain(email);
    // The squatter is gone from the tenant they made, and no longer counts as its owner.
    expect(await emailsIn(friend.token)).not.toContain(email);
    await http()
      .get('/api/v1/auth/me')
      .set(...bearer(squatter))
      .expect(401);
  });

  it('should accept a logged-in session of the account as proof for joining another tenant', async () => {
    const email = `${unique('session')}@example.com`;
    await signUp(email).expect(201);
    await verifyEmail(http, email);
    const token = await login(http, email);
    await signUp(email, 'not the password at all').expect(409);
    const joined = await signUp(email, 'not the password at all')
      .set(...bearer(token))
      .expect(201);
    expect(joined.body.account).toEqual({ emailVerified: true, loginOpen: true });
    // The account's password stays what it was.
    await http()
      .post('/api/v1/auth/login')
      .send({ email, password: PASSWORD, tenant: joined.body.tenant.id })
      .expect(200);
  });

  it('should reset a password by mail, once, and end every session', async () => {
    const member = await register(http);
    const session = await http()
      .post('/api/v1/auth/login')
      .send({ email: member.email, password: PASSWORD })
      .expect(200);
    const before = mailsTo(member.email).length;
    await http()
      .post('/api/v1/auth/password-reset')
      .send({ email: member.email })
      .expect(202, { status: 'accepted' });
    // Same answer for an email without an account, and no mail.
    const nobody = `${unique('nobody')}@example.com`;
    await http()
      .post('/api/v1/auth/password-reset')
      .send({ email: nobody })
      .expect(202, { status: 'accepted' });
    expect(mailsTo(nobody)).toHaveLength(0);
    expect(mailsTo(member.email)).toHaveLength(before + 1);

    const token = latestToken(member.email, 'Reset your password');
    const weak = await http()
      .post('/api/v1/auth/password-reset/confirm')
      .send({ token, password: 'password1' })
      .expect(400);
    expect(weak.body.message).toContain('common');
    // A refused password does not spend the token.
    await http()
      .post('/api/v1/auth/password-reset/confirm')
      .send({ token, password: 'a brand new passphrase' })
      .expect(204);
    await http()
      .post('/api/v1/auth/password-reset/confirm')
      .send({ token, password: 'yet another passphrase' })
      .expect(400);
    await http()
      .post('/api/v1/auth/login')
      .send({ email: member.email, password: PASSWORD })
      .expect(401);
    await login(http, member.email, 'a brand new passphrase');
    await http()
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: session.body.refreshToken })
      .expect(401);
  });

  it('should change a password with the current one and end every session', async () => {
    const member = await register(http);
    const session = await http()
      .post('/api/v1/auth/login')
      .send({ email: member.email, password: PASSWORD })
      .expect(200);
    await http()
      .post('/api/v1/auth/password')
      .set(...bearer(member.token))
      .send({ currentPassword: 'wrong guess here', newPassword: 'my next passphrase' })
      .expect(401);
    await http()
      .post('/api/v1/auth/password')
      .set(...bearer(member.token))
      .send({ currentPassword: PASSWORD, newPassword: member.email })
      .expect(400);
    await http()
      .post('/api/v1/auth/password')
      .set(...bearer(member.token))
      .send({ currentPassword: PASSWORD, newPassword: 'my next passphrase' })
      .expect(204);
    await http()
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: session.body.refreshToken })
      .expect(401);
    await login(http, member.email, 'my next passphrase');
  });

  it("should not let a squatter's password change outlive the mailbox owner's claim", async () => {
    const email = `${unique('race')}@example.com`;
    await signUp(email, 'the squatters password').expect(201);
    const squatter = await login(http, email, 'the squatters password');
    await signUp(email, 'the real owners password').expect(201);

    // The squatter's change has checked the current password and is hashing the new one when
    // the mailbox owner confirms the claim.
    const actual = jest.requireActual<typeof import('bcrypt')>('bcrypt');
    let hashing!: () => void;
    const started = new Promise<void>((resolve) => (hashing = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    hashes.mockImplementationOnce(async (data: string, rounds: number) => {
      hashing();
      await gate;
      return actual.hash(data, rounds);
    });
    const change = http()
      .post('/api/v1/auth/password')
      .set(...bearer(squatter))
      .send({ currentPassword: 'the squatters password', newPassword: 'the squatters next one' })
      .then((response) => response);
    await started;
    await http()
      .post('/api/v1/auth/verify-email')
      .send({ token: latestToken(email, 'Confirm your email') })
      .expect(200);
    release();
    const changed = await change;

    expect({ status: changed.status, code: changed.body.code }).toEqual({
      status: 401,
      code: 'INVALID_CREDENTIALS',
    });
    for (const password of ['the squatters next one', 'the squatters password']) {
      await http().post('/api/v1/auth/login').send({ email, password }).expect(401);
    }
    await login(http, email, 'the real owners password');
  });

  it.each([
    ['the email itself', (email: string) => email.toUpperCase(), 'must not be the email'],
    ['a common password', () => 'password1', 'most common'],
    ['one repeated character', () => 'aaaaaaaa', 'at least 3 different'],
  ])('should refuse %s as a password, naming the field', async (_kind, password, message) => {
    const email = `${unique('rules')}@example.com`;
    const response = await signUp(email, password(email)).expect(400);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(response.body.message).toContain(message);
  });

  it('should refuse a new account whose email only looks like another (fullwidth letters)', async () => {
    const victim = await register(http);
    // Its first letter fullwidth ("ｕser-...@example.com"): NFKC folds it back.
    const fullwidth = String.fromCharCode(0xff41 + victim.email.charCodeAt(0) - 0x61);
    const lookalike = fullwidth + victim.email.slice(1);
    const refused = await signUp(lookalike).expect(400);
    expect(refused.body.code).toBe('VALIDATION_FAILED');
    expect(refused.body.message).toContain(`write it as ${victim.email}`);
    // Nothing was made for it, and the real address is as it was.
    const { rows } = await ctx.db.query(`SELECT 1 FROM accounts WHERE email = $1`, [lookalike]);
    expect(rows).toHaveLength(0);
    await login(http, victim.email, PASSWORD, victim.tenant.id);
  });

  it('should treat NFC and NFD spellings of a password as one, and read 72 bytes at most', async () => {
    const email = `${unique('nfkc')}@example.com`;
    const composed = 'crème brûlée à la carte'.normalize('NFC');
    await signUp(email, composed).expect(201);
    await login(http, email, composed.normalize('NFD'));
    const tooLong = await http()
      .post('/api/v1/auth/login')
      .send({ email, password: 'p'.repeat(73) })
      .expect(400);
    expect(tooLong.body.message).toContain('password must be 1 to 72 bytes long');
  });

  it('should not take a 72-byte password with a suffix that composes with its last character', async () => {
    const email = `${unique('jamo')}@example.com`;
    // 69 ASCII bytes and a Hangul leading consonant (3 bytes): 72 bytes, already NFKC.
    const password = `${'k'.repeat(66)}Q9-\u1100`;
    expect(Buffer.byteLength(password)).toBe(72);
    await signUp(email, password).expect(201);
    // A vowel after it: 75 bytes as typed, whose NFKC form (one syllable) is 72 bytes again.
    const longer = `${password}\u1161`;
    expect(Buffer.byteLength(longer.normalize('NFKC'))).toBe(72);
    await http().post('/api/v1/auth/login').send({ email, password: longer }).expect(401);
    await login(http, email, password);
  });

  it('should keep a migrated per-tenant password working for that tenant until a reset', async () => {
    // As the accounts migration leaves an email whose tenants had different passwords: the
    // account has one password; the other membership keeps its old hash.
    const email = `${unique('migrated')}@example.com`;
    const first = await signUp(email).expect(201);
    await verifyEmail(http, email);
    const second = await signUp(email).expect(201);
    const oldHash = await bcrypt.hash('the old tenant password', 4);
    await ctx.db.query(
      `UPDATE login_directory SET legacy_password_hash = $1 WHERE email = $2 AND tenant_id = $3`,
      [oldHash, email, second.body.tenant.id],
    );
    await http()
      .post('/api/v1/auth/login')
      .send({ email, password: 'the old tenant password' })
      .expect(401);
    const there = await http()
      .post('/api/v1/auth/login')
      .send({ email, password: 'the old tenant password', tenant: second.body.tenant.id })
      .expect(200);
    expect(there.body.tenant.id).toBe(second.body.tenant.id);
    await http()
      .post('/api/v1/auth/login')
      .send({ email, password: 'the old tenant password', tenant: first.body.tenant.id })
      .expect(401);
    // The account password opens both, as for any account.
    await http().post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(409);

    await http().post('/api/v1/auth/password-reset').send({ email }).expect(202);
    await http()
      .post('/api/v1/auth/password-reset/confirm')
      .send({ token: latestToken(email, 'Reset your password'), password: 'one password now' })
      .expect(204);
    await http()
      .post('/api/v1/auth/login')
      .send({ email, password: 'the old tenant password', tenant: second.body.tenant.id })
      .expect(401);
  });
});

/** Anyone may ask for a reset or a confirmation mail for any address: neither may hurt its owner. */
describe('Token mails asked for by strangers (e2e)', () => {
  const ctx = useTestApp({ AUTH_RATE_LIMIT_PER_EMAIL: '3', AUTH_RATE_LIMIT_PER_IP: '100' });
  const http = (): Http => ctx.http();
  const ask = (path: string, email: string) =>
    http().post(`/api/v1/auth/${path}`).send({ email }).expect(202, { status: 'accepted' });
  /** As if the mails of this address had gone out `seconds` earlier (row by row: Citus runs no
   * UPDATE that computes a timestamptz from a column). */
  const age = async (email: string, seconds: number) => {
    const { rows } = await ctx.db.query<{ token_hash: string; created_at: Date }>(
      `SELECT token_hash, created_at FROM email_tokens WHERE email = $1`,
      [email],
    );
    for (const row of rows) {
      await ctx.db.query(
        `UPDATE email_tokens SET created_at = $3 WHERE email = $1 AND token_hash = $2`,
        [email, row.token_hash, new Date(row.created_at.getTime() - seconds * 1000)],
      );
    }
  };

  it("should answer a stranger's many reset requests with 202, send one mail, and let the owner reset", async () => {
    const owner = await register(http);
    const resets = () => mailsTo(owner.email).filter((raw) => raw.includes('Reset your password'));
    // More requests than the per-email budget (3): a budget per email would refuse the owner next.
    for (let i = 0; i < 6; i += 1) await ask('password-reset', owner.email);
    await ask('password-reset', owner.email.toUpperCase());
    expect(resets()).toHaveLength(1);

    // A minute later one more goes out; the next waits twice as long.
    await age(owner.email, 61);
    await ask('password-reset', owner.email);
    await ask('password-reset', owner.email);
    expect(resets()).toHaveLength(2);
    await age(owner.email, 119);
    await ask('password-reset', owner.email);
    expect(resets()).toHaveLength(2);
    await age(owner.email, 2);
    await ask('password-reset', owner.email);
    expect(resets()).toHaveLength(3);

    // Every mail the owner got works; the newest one sets the password.
    await http()
      .post('/api/v1/auth/password-reset/confirm')
      .send({
        token: latestToken(owner.email, 'Reset your password'),
        password: 'a new passphrase 9',
      })
      .expect(204);
    await http()
      .post('/api/v1/auth/login')
      .send({ email: owner.email, password: 'a new passphrase 9' })
      .expect(200);
  });

  it('should space confirmation mails the same way, counting the one the registration sent', async () => {
    const email = `${unique('unconfirmed')}@example.com`;
    const tenantName = unique('T');
    await http()
      .post('/api/v1/auth/register')
      .send({ tenantName, username: unique('u'), email, password: PASSWORD })
      .expect(201);
    const confirmations = () => mailsTo(email).filter((raw) => raw.includes('Confirm your email'));
    expect(confirmations()).toHaveLength(1);
    // The second mail goes at once (the owner asking right after a registration), then a minute.
    for (let i = 0; i < 5; i += 1) await ask('verify-email/resend', email);
    expect(confirmations()).toHaveLength(2);
    await age(email, 61);
    await ask('verify-email/resend', email);
    await ask('verify-email/resend', email);
    expect(confirmations()).toHaveLength(3);
    // The mail says which account confirming confirms (whoever registered first chose its
    // password), so the mailbox's owner can tell a stranger's registration from their own.
    expect(plainText(confirmations()[1])).toContain(`the account registered in "${tenantName}"`);
    await http()
      .post('/api/v1/auth/verify-email')
      .send({ token: latestToken(email, 'Confirm your email') })
      .expect(200);
  });

  it('should send one mail for requests that arrive together', async () => {
    const owner = await register(http);
    await Promise.all(Array.from({ length: 5 }, () => ask('password-reset', owner.email)));
    // Five requests wait on one row lock, so some of the work may finish after its answer
    // (ACCOUNT_ANSWER_MS): let it, then count.
    const resets = () =>
      mailsTo(owner.email).filter((raw) => raw.includes('Reset your password')).length;
    for (let i = 0; i < 30 && resets() === 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(resets()).toBe(1);
  });
});
