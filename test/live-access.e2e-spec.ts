import { INestApplication } from '@nestjs/common';
import {
  bearer,
  createTestApp,
  Http,
  login,
  PASSWORD,
  register,
  tenantWithRoles,
  useTestApp,
} from './harness/e2e';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Rights come from the stored state, not from the role a token was issued with (issue 19): each
 * finding, tried with the old token as its holder would.
 */
describe('Rights that change take effect at once (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();

  async function noteOf(token: string): Promise<string> {
    const response = await http()
      .post('/api/v1/notes')
      .set(...bearer(token))
      .send({ content: 'a member’s note' })
      .expect(201);
    return response.body.id as string;
  }

  it('should stop a demoted admin editing and deleting others’ notes with the token they had', async () => {
    const { owner, admin, member } = await tenantWithRoles(http);
    const note = await noteOf(member.token);
    // As admin, the token could edit a member's note.
    await http()
      .patch(`/api/v1/notes/${note}`)
      .set(...bearer(admin.token))
      .send({ content: 'edited by the admin' })
      .expect(200);
    await http()
      .patch(`/api/v1/users/${admin.user.id}`)
      .set(...bearer(owner.token))
      .send({ role: 'member' })
      .expect(200);
    const edit = await http()
      .patch(`/api/v1/notes/${note}`)
      .set(...bearer(admin.token))
      .send({ content: 'edited after the demotion' });
    expect(edit.status).toBe(401);
    expect(edit.body.code).toBe('UNAUTHENTICATED');
    await http()
      .delete(`/api/v1/notes/${note}`)
      .set(...bearer(admin.token))
      .expect(401);
    // Logged in again, they have the rights of their new role: their own notes only.
    const again = await login(http, admin.email, PASSWORD, owner.tenant.id);
    await http()
      .patch(`/api/v1/notes/${note}`)
      .set(...bearer(again))
      .send({ content: 'edited as a member' })
      .expect(403);
    const stored = await http()
      .get(`/api/v1/notes/${note}`)
      .set(...bearer(member.token))
      .expect(200);
    expect(stored.body.content).toBe('edited by the admin');
  });

  it('should refuse every route to a removed member’s token at once', async () => {
    const { owner, member } = await tenantWithRoles(http);
    await http()
      .get('/api/v1/users')
      .set(...bearer(member.token))
      .expect(200);
    await http()
      .delete(`/api/v1/users/${member.user.id}`)
      .set(...bearer(owner.token))
      .expect(204);
    for (const attempt of [
      http().get('/api/v1/notes'),
      http().post('/api/v1/notes').send({ content: 'after removal' }),
      http().get('/api/v1/users'),
      http().get('/api/v1/auth/me'),
    ]) {
      const response = await attempt.set(...bearer(member.token));
      expect({ status: response.status, code: response.body.code }).toEqual({
        status: 401,
        code: 'UNAUTHENTICATED',
      });
    }
  });

  it('should end a token’s access when its holder leaves, logs out or changes password', async () => {
    const leaver = await register(http);
    const { token } = await register(http, {
      tenantName: leaver.tenant.name,
      inviteCode: (
        await http()
          .post('/api/v1/tenants/current/invitations')
          .set(...bearer(leaver.token))
          .send({ role: 'member' })
          .expect(201)
      ).body.code as string,
    });
    await http()
      .post('/api/v1/tenants/current/leave')
      .set(...bearer(token))
      .expect(204);
    await http()
      .get('/api/v1/notes')
      .set(...bearer(token))
      .expect(401);

    const other = await login(http, leaver.email, PASSWORD, leaver.tenant.id);
    await http()
      .post('/api/v1/auth/logout')
      .set(...bearer(leaver.token))
      .send({})
      .expect(204);
    await http()
      .get('/api/v1/notes')
      .set(...bearer(leaver.token))
      .expect(401);
    // Another session of the same account is not this one: it goes on.
    await http()
      .get('/api/v1/notes')
      .set(...bearer(other))
      .expect(200);
    await http()
      .post('/api/v1/auth/password')
      .set(...bearer(other))
      .send({ currentPassword: PASSWORD, newPassword: 'another long passphrase' })
      .expect(204);
    await http()
      .get('/api/v1/notes')
      .set(...bearer(other))
      .expect(401);
  });

  it('should end operator access at logout', async () => {
    const response = await http()
      .post('/api/v1/admin/auth/login')
      .send({ email: 'ops@example.com', password: 'operator password for e2e' })
      .expect(200);
    const token = response.body.accessToken as string;
    await http()
      .get('/api/v1/admin/citus/nodes')
      .set(...bearer(token))
      .expect(200);
    await http()
      .post('/api/v1/admin/auth/logout')
      .set(...bearer(token))
      .send({})
      .expect(204);
    await http()
      .get('/api/v1/admin/citus/nodes')
      .set(...bearer(token))
      .expect(401);
  });

  describe('on another instance', () => {
    let other: { app: INestApplication; http: () => Http };

    afterAll(async () => {
      await other?.app.close();
    });

    it('should end a removed member’s access within ACCESS_RECHECK_MS there too', async () => {
      const { owner, member } = await tenantWithRoles(http);
      other = await createTestApp({ ACCESS_RECHECK_MS: '1000' });
      // The other instance has just seen the session live, and keeps that answer a second.
      await other
        .http()
        .get('/api/v1/notes')
        .set(...bearer(member.token))
        .expect(200);
      await http()
        .delete(`/api/v1/users/${member.user.id}`)
        .set(...bearer(owner.token))
        .expect(204);
      await sleep(1_100);
      await other
        .http()
        .get('/api/v1/notes')
        .set(...bearer(member.token))
        .expect(401);
    });
  });
});
