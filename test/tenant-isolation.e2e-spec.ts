import { bearer, Http, invite, Member, tenantWithRoles, unique, useTestApp } from './harness/e2e';

/**
 * The attacker's side: tenant B holds valid tokens (owner, admin, member) and aims them at tenant
 * A's real ids. Every attempt must look exactly like a missing id, and A's data must not change.
 */
describe('Cross-tenant isolation (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();
  let victim: { owner: Member; admin: Member; member: Member };
  let attackers: Member[];
  let victimNote: { id: string; title: string; content: string };
  const secret = 'victim secret 7f3a';

  beforeAll(async () => {
    victim = await tenantWithRoles(http);
    const attacker = await tenantWithRoles(http);
    attackers = [attacker.owner, attacker.admin, attacker.member];
    victimNote = (
      await http()
        .post('/api/v1/notes')
        .set(...bearer(victim.member.token))
        .send({ title: `${secret} title`, content: secret })
        .expect(201)
    ).body;
  });

  const leaks = (body: unknown): boolean => {
    const text = JSON.stringify(body);
    return (
      text.includes(secret) ||
      text.includes(victim.owner.email) ||
      text.includes(victim.member.email) ||
      text.includes(victim.owner.tenant.name)
    );
  };

  it('should answer every attack on a victim note exactly like a missing note', async () => {
    const missing = await http()
      .get('/api/v1/notes/9223372036854775000')
      .set(...bearer(attackers[0].token))
      .expect(404);
    for (const attacker of attackers) {
      const attempts = [
        http().get(`/api/v1/notes/${victimNote.id}`),
        http().patch(`/api/v1/notes/${victimNote.id}`).send({ content: 'pwned' }),
        http().delete(`/api/v1/notes/${victimNote.id}`),
      ];
      for (const attempt of attempts) {
        const response = await attempt.set(...bearer(attacker.token));
        expect(response.status).toBe(404);
        expect(response.body.code).toBe(missing.body.code);
        expect(response.body.message).toBe(`Note ${victimNote.id} not found`);
        expect(leaks(response.body)).toBe(false);
      }
    }
    const { rows } = await ctx.db.query('SELECT title, content FROM notes WHERE id = $1', [
      victimNote.id,
    ]);
    expect(rows).toEqual([{ title: `${secret} title`, content: secret }]);
  });

  it('should never list victim notes or users to an attacker, on any page', async () => {
    for (const attacker of attackers) {
      for (const path of [
        '/api/v1/notes?limit=100',
        '/api/v1/notes?author=me',
        '/api/v1/users?limit=100',
      ]) {
        const response = await http()
          .get(path)
          .set(...bearer(attacker.token))
          .expect(200);
        expect(leaks(response.body)).toBe(false);
      }
      // A cursor just above the victim's id would reveal it if the tenant filter were missing.
      const cursor = (BigInt(victimNote.id) + 1n).toString();
      const paged = await http()
        .get(`/api/v1/notes?cursor=${cursor}`)
        .set(...bearer(attacker.token))
        .expect(200);
      expect(paged.body.items.map((n: { id: string }) => n.id)).not.toContain(victimNote.id);
    }
  });

  it('should answer attacks on victim users like missing users', async () => {
    for (const attacker of attackers) {
      for (const victimUser of [victim.owner, victim.member]) {
        const response = await http()
          .get(`/api/v1/users/${victimUser.user.id}`)
          .set(...bearer(attacker.token))
          .expect(404);
        expect(response.body.code).toBe('USER_NOT_FOUND');
        expect(leaks(response.body)).toBe(false);
      }
    }
  });

  it("should keep the attacker's own tenant and token on their side", async () => {
    const me = await http()
      .get('/api/v1/auth/me')
      .set(...bearer(attackers[0].token))
      .expect(200);
    expect(me.body.tenant.id).not.toBe(victim.owner.tenant.id);
    const current = await http()
      .get('/api/v1/tenants/current')
      .set(...bearer(attackers[0].token))
      .expect(200);
    expect(leaks(current.body)).toBe(false);
  });

  it('should ignore tenant hints in headers, query strings and bodies', async () => {
    const [owner] = attackers;
    const created = await http()
      .post('/api/v1/notes')
      .set(...bearer(owner.token))
      .set('X-Tenant-Id', victim.owner.tenant.id)
      .send({ content: 'where does this go?' })
      .expect(201);
    const { rows } = await ctx.db.query('SELECT tenant_id::text FROM notes WHERE id = $1', [
      created.body.id,
    ]);
    expect(rows).toEqual([{ tenant_id: owner.tenant.id }]);
    const hinted = await http()
      .get(`/api/v1/notes/${victimNote.id}?tenantId=${victim.owner.tenant.id}`)
      .set(...bearer(owner.token))
      .set('X-Tenant-Id', victim.owner.tenant.id)
      .expect(404);
    expect(leaks(hinted.body)).toBe(false);
  });

  it("should not let an attacker join the victim tenant with the attacker's own invitation", async () => {
    const code = await invite(http, attackers[0].token);
    const response = await http()
      .post('/api/v1/auth/register')
      .send({
        tenantName: victim.owner.tenant.name,
        username: 'infiltrator',
        email: 'infiltrator@example.com',
        password: 'correct horse battery',
        inviteCode: code,
      })
      .expect(403);
    expect(response.body.code).toBe('INVITATION_INVALID');
  });

  it("should give someone who registers the victim's email without its password or mailbox nothing of the victim's", async () => {
    const email = victim.member.email;
    const squat = await http()
      .post('/api/v1/auth/register')
      .send({
        tenantName: unique('Squat'),
        username: unique('squatter'),
        email,
        password: 'the squatters own password',
      })
      .expect(201);
    // The registration waits for the mailbox, which is the victim's: it opens nothing.
    expect(squat.body.account).toEqual({ emailVerified: false, loginOpen: false });
    await http()
      .post('/api/v1/auth/login')
      .send({ email, password: 'the squatters own password' })
      .expect(401);
    await http()
      .post('/api/v1/auth/login')
      .send({ email, password: 'the squatters own password', tenant: squat.body.tenant.id })
      .expect(401);
    // The victim logs in as before, to their own tenant only (no tenant choice appears).
    const own = await http()
      .post('/api/v1/auth/login')
      .send({ email, password: victim.member.password })
      .expect(200);
    expect(own.body.tenant.id).toBe(victim.member.tenant.id);
    await http()
      .get(`/api/v1/notes/${victimNote.id}`)
      .set(...bearer(own.body.accessToken))
      .expect(200);
  });
});
