import { bearer, Http, Member, tenantWithRoles, useTestApp } from './harness/e2e';

describe('Tenants and users (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();
  let owner: Member;
  let admin: Member;
  let member: Member;

  beforeAll(async () => {
    ({ owner, admin, member } = await tenantWithRoles(http));
  });

  it("should show the caller's tenant", async () => {
    const response = await http()
      .get('/api/v1/tenants/current')
      .set(...bearer(member.token))
      .expect(200);
    expect(response.body).toEqual({
      id: owner.tenant.id,
      name: owner.tenant.name,
      createdAt: expect.any(String),
    });
  });

  it('should let owners and admins invite members, with an expiry', async () => {
    const before = Date.now();
    const response = await http()
      .post('/api/v1/tenants/current/invitations')
      .set(...bearer(admin.token))
      .send({ expiresInHours: 2 })
      .expect(201);
    expect(response.body).toEqual({
      code: expect.any(String),
      expiresAt: expect.any(String),
      role: 'member',
    });
    expect(response.body.code.length).toBeGreaterThanOrEqual(24);
    const expires = new Date(response.body.expiresAt).getTime();
    expect(expires).toBeGreaterThan(before + 2 * 3600_000 - 60_000);
    expect(expires).toBeLessThan(before + 2 * 3600_000 + 60_000);
  });

  it('should refuse invitations from members and admin invitations from admins', async () => {
    const byMember = await http()
      .post('/api/v1/tenants/current/invitations')
      .set(...bearer(member.token))
      .send({})
      .expect(403);
    expect(byMember.body.code).toBe('FORBIDDEN');
    const adminByAdmin = await http()
      .post('/api/v1/tenants/current/invitations')
      .set(...bearer(admin.token))
      .send({ role: 'admin' })
      .expect(403);
    expect(adminByAdmin.body.code).toBe('FORBIDDEN');
  });

  it.each([
    [{ role: 'owner' }, 'role must be admin or member'],
    [{ expiresInHours: 0 }, 'expiresInHours must not be less than 1'],
    [{ expiresInHours: 721 }, 'expiresInHours must not be greater than 720'],
    [{ expiresInHours: 'soon' }, 'expiresInHours must be an integer'],
    [{ code: 'mine' }, 'property code should not exist'],
  ])('should answer invitation body %j with a 400 naming the field', async (body, message) => {
    const response = await http()
      .post('/api/v1/tenants/current/invitations')
      .set(...bearer(owner.token))
      .send(body)
      .expect(400);
    expect(response.body.message).toContain(message);
  });

  it("should list the tenant's members without password hashes, paginated", async () => {
    const first = await http()
      .get('/api/v1/users?limit=2')
      .set(...bearer(member.token))
      .expect(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await http()
      .get(`/api/v1/users?limit=2&cursor=${first.body.nextCursor}`)
      .set(...bearer(member.token))
      .expect(200);
    const all = [...first.body.items, ...second.body.items];
    expect(all.map((u: { id: string }) => u.id).sort()).toEqual(
      [owner.user.id, admin.user.id, member.user.id].sort(),
    );
    expect(second.body.nextCursor).toBeNull();
    for (const user of all) {
      expect(Object.keys(user).sort()).toEqual(['createdAt', 'email', 'id', 'role', 'username']);
    }
  });

  it('should show one member by id', async () => {
    const response = await http()
      .get(`/api/v1/users/${owner.user.id}`)
      .set(...bearer(member.token))
      .expect(200);
    expect(response.body).toMatchObject({ id: owner.user.id, role: 'owner', email: owner.email });
  });
});
