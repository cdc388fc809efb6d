import { Http, invite, PASSWORD, register, unique, useTestApp } from './harness/e2e';

describe('Concurrent registration (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();

  it('should accept exactly one of two simultaneous registrations of one email in one tenant', async () => {
    for (let round = 0; round < 3; round += 1) {
      const owner = await register(http);
      const [codeA, codeB] = [await invite(http, owner.token), await invite(http, owner.token)];
      const email = `${unique('race')}@example.com`;
      const attempt = (inviteCode: string) =>
        http()
          .post('/api/v1/auth/register')
          .send({
            tenantName: owner.tenant.name,
            username: unique('racer'),
            email,
            password: PASSWORD,
            inviteCode,
          });
      const responses = await Promise.all([attempt(codeA), attempt(codeB)]);
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409]);
      expect(responses.find((r) => r.status === 409)?.body.code).toBe('EMAIL_TAKEN');

      const directory = await ctx.db.query(
        'SELECT user_id::text FROM login_directory WHERE email = $1 AND tenant_id = $2',
        [email, owner.tenant.id],
      );
      const users = await ctx.db.query(
        'SELECT id::text FROM users WHERE tenant_id = $1 AND email = $2',
        [owner.tenant.id, email],
      );
      expect(directory.rows).toHaveLength(1);
      expect(users.rows).toHaveLength(1);
      expect(directory.rows[0].user_id).toBe(users.rows[0].id);
      // The loser's transaction rolled back whole: its invitation is still unused.
      const unused = await ctx.db.query(
        'SELECT count(*)::int AS n FROM invitations WHERE tenant_id = $1 AND used_at IS NULL',
        [owner.tenant.id],
      );
      expect(unused.rows[0].n).toBe(1);
    }
  });

  it('should create a tenant once when two people register the same new name at once', async () => {
    const tenantName = unique('Race');
    const attempt = () =>
      http()
        .post('/api/v1/auth/register')
        .send({
          tenantName,
          username: unique('founder'),
          email: `${unique('founder')}@example.com`,
          password: PASSWORD,
        });
    const responses = await Promise.all([attempt(), attempt()]);
    expect(responses.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(responses.find((r) => r.status === 409)?.body.code).toBe('TENANT_NAME_TAKEN');
    const { rows } = await ctx.db.query(
      'SELECT count(*)::int AS n FROM tenants WHERE lower(name) = lower($1)',
      [tenantName],
    );
    expect(rows[0].n).toBe(1);
  });

  it('should let only one of two simultaneous registrations use a single invitation', async () => {
    const owner = await register(http);
    const code = await invite(http, owner.token);
    const attempt = () =>
      http()
        .post('/api/v1/auth/register')
        .send({
          tenantName: owner.tenant.name,
          username: unique('twin'),
          email: `${unique('twin')}@example.com`,
          password: PASSWORD,
          inviteCode: code,
        });
    const responses = await Promise.all([attempt(), attempt()]);
    expect(responses.map((r) => r.status).sort()).toEqual([201, 403]);
    const { rows } = await ctx.db.query(
      'SELECT count(*)::int AS n FROM users WHERE tenant_id = $1',
      [owner.tenant.id],
    );
    expect(rows[0].n).toBe(2);
  });
});
