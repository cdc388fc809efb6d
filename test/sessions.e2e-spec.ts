import {
  bearer,
  Http,
  invite,
  Member,
  operatorToken,
  OPERATOR,
  PASSWORD,
  register,
  tenantWithRoles,
  unique,
  useTestApp,
} from './harness/e2e';

/** Sessions that end: rotation, reuse detection, logout, and members losing access. */
describe('Sessions and members (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();

  const loginBody = async (email: string, tenant?: string) =>
    (
      await http()
        .post('/api/v1/auth/login')
        .send({ email, password: PASSWORD, ...(tenant ? { tenant } : {}) })
        .expect(200)
    ).body as { accessToken: string; refreshToken: string };
  const refresh = (refreshToken: string) =>
    http().post('/api/v1/auth/refresh').send({ refreshToken });

  describe('refresh tokens', () => {
    it('should rotate: each refresh token works once, and a replay ends the session', async () => {
      const member = await register(http);
      const first = await loginBody(member.email);
      const second = await refresh(first.refreshToken).expect(200);
      expect(second.headers['cache-control']).toBe('no-store');
      expect(second.body.refreshToken).not.toBe(first.refreshToken);
      await http()
        .get('/api/v1/auth/me')
        .set(...bearer(second.body.accessToken))
        .expect(200);

      // The holder refreshes again; the first token comes back, from a thief.
      const third = await refresh(second.body.refreshToken).expect(200);
      const replay = await refresh(first.refreshToken).expect(401);
      expect(replay.body.code).toBe('SESSION_REVOKED');
      // The thief's replay ended the session for the rightful holder too.
      await refresh(third.body.refreshToken).expect(401);
      // Other sessions of the same person are untouched.
      const other = await loginBody(member.email);
      await refresh(other.refreshToken).expect(200);
    });

    it('should give parallel retries of one refresh the same new token, and keep the session', async () => {
      const member = await register(http);
      const session = await loginBody(member.email);
      // A client retrying after a timeout, or several tabs at once.
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => refresh(session.refreshToken)),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
      const tokens = new Set(answers.map((answer) => answer.body.refreshToken as string));
      expect(tokens.size).toBe(1);
      for (const answer of answers) {
        await http()
          .get('/api/v1/auth/me')
          .set(...bearer(answer.body.accessToken))
          .expect(200);
      }
      await refresh([...tokens][0]).expect(200);
    });

    it('should refuse malformed, forged and foreign refresh tokens without a 500 or ending the session', async () => {
      const member = await register(http);
      const session = await loginBody(member.email);
      const [tenant, family, generation, mac] = session.refreshToken.split('.');
      expect(generation).toBe('0');
      for (const token of [
        'garbage-token-that-is-long-enough',
        // The session id is public (the `sid` of every access token): invented tokens that name
        // it, at the current, an older or a later generation, are refused and end nothing.
        `${tenant}.${family}.0.${'A'.repeat(43)}`,
        `${tenant}.${family}.1.${mac}`,
        `${tenant}.${family}.7.${'A'.repeat(43)}`,
        `${Number(tenant) + 1}.${family}.0.${mac}`,
        `99999999.${'f'.repeat(22)}.0.${'A'.repeat(43)}`,
        `${tenant}.${family}.${mac}`,
      ]) {
        const response = await refresh(token);
        expect({ token, status: response.status, code: response.body.code }).toEqual({
          token,
          status: 401,
          code: 'UNAUTHENTICATED',
        });
      }
      const next = await refresh(session.refreshToken).expect(200);
      expect(next.body.refreshToken.split('.').slice(0, 3)).toEqual([tenant, family, '1']);
    });

    it('should end one session on logout, and all of them everywhere', async () => {
      const member = await register(http);
      const a = await loginBody(member.email);
      const b = await loginBody(member.email);
      await http()
        .post('/api/v1/auth/logout')
        .set(...bearer(a.accessToken))
        .send({})
        .expect(204);
      await refresh(a.refreshToken).expect(401);
      const bNext = await refresh(b.refreshToken).expect(200);
      await http()
        .post('/api/v1/auth/logout')
        .set(...bearer(bNext.body.accessToken))
        .send({ everywhere: true })
        .expect(204);
      await refresh(bNext.body.refreshToken).expect(401);
    });
  });

  describe('members', () => {
    it('should let owners change roles, end the sessions of the changed member, and re-check roles', async () => {
      const { owner, admin, member } = await tenantWithRoles(http);
      const adminSession = await loginBody(admin.email);
      const promoted = await http()
        .patch(`/api/v1/users/${member.user.id}`)
        .set(...bearer(owner.token))
        .send({ role: 'admin' })
        .expect(200);
      expect(promoted.body.role).toBe('admin');
      // Admins do not change roles.
      await http()
        .patch(`/api/v1/users/${owner.user.id}`)
        .set(...bearer(admin.token))
        .send({ role: 'member' })
        .expect(403);

      await http()
        .patch(`/api/v1/users/${admin.user.id}`)
        .set(...bearer(owner.token))
        .send({ role: 'member' })
        .expect(200);
      await refresh(adminSession.refreshToken).expect(401);
      // The demoted admin's access token still says admin, but its session has ended with it.
      const invite = await http()
        .post('/api/v1/tenants/current/invitations')
        .set(...bearer(adminSession.accessToken))
        .send({ role: 'member' })
        .expect(401);
      expect(invite.body.code).toBe('UNAUTHENTICATED');
      const fresh = await loginBody(admin.email);
      const claims = JSON.parse(
        Buffer.from(fresh.accessToken.split('.')[1], 'base64url').toString(),
      );
      expect(claims.role).toBe('member');

      const bad = await http()
        .patch(`/api/v1/users/${member.user.id}`)
        .set(...bearer(owner.token))
        .send({ role: 'root' })
        .expect(400);
      expect(bad.body.message).toContain('role must be one of owner, admin, member');
    });

    it('should keep the last owner, and let ownership move before the old owner leaves', async () => {
      const { owner, member } = await tenantWithRoles(http);
      for (const call of [
        http()
          .patch(`/api/v1/users/${owner.user.id}`)
          .set(...bearer(owner.token))
          .send({ role: 'member' }),
        http()
          .post('/api/v1/tenants/current/leave')
          .set(...bearer(owner.token)),
        http()
          .delete(`/api/v1/users/${owner.user.id}`)
          .set(...bearer(owner.token)),
      ]) {
        const response = await call.expect(409);
        expect(response.body.code).toBe('LAST_OWNER');
      }
      await http()
        .patch(`/api/v1/users/${member.user.id}`)
        .set(...bearer(owner.token))
        .send({ role: 'owner' })
        .expect(200);
      await http()
        .post('/api/v1/tenants/current/leave')
        .set(...bearer(owner.token))
        .expect(204);
      await http()
        .post('/api/v1/auth/login')
        .send({ email: owner.email, password: PASSWORD, tenant: owner.tenant.id })
        .expect(401);
    });

    it('should remove a member, keep their notes and authorship, and close their login', async () => {
      const { owner, admin, member } = await tenantWithRoles(http);
      const session = await loginBody(member.email);
      const note = await http()
        .post('/api/v1/notes')
        .set(...bearer(member.token))
        .send({ content: `kept ${unique('n')}` })
        .expect(201);
      // Admins remove members, not admins or owners.
      await http()
        .delete(`/api/v1/users/${owner.user.id}`)
        .set(...bearer(admin.token))
        .expect(403);
      await http()
        .delete(`/api/v1/users/${member.user.id}`)
        .set(...bearer(admin.token))
        .expect(204);

      const kept = await http()
        .get(`/api/v1/notes/${note.body.id}`)
        .set(...bearer(owner.token))
        .expect(200);
      expect(kept.body.authorId).toBe(member.user.id);
      await http()
        .get(`/api/v1/users/${member.user.id}`)
        .set(...bearer(owner.token))
        .expect(404);
      await refresh(session.refreshToken).expect(401);
      await http()
        .post('/api/v1/auth/login')
        .send({ email: member.email, password: PASSWORD })
        .expect(401);
      const listed = await http()
        .get('/api/v1/users?limit=100')
        .set(...bearer(owner.token))
        .expect(200);
      expect(listed.body.items.map((u: { id: string }) => u.id)).not.toContain(member.user.id);

      // Invited again, they come back as the same member, with their notes.
      const code = (
        await http()
          .post('/api/v1/tenants/current/invitations')
          .set(...bearer(owner.token))
          .send({})
          .expect(201)
      ).body.code as string;
      const back = await http()
        .post('/api/v1/auth/register')
        .send({
          tenantName: owner.tenant.name,
          username: unique('back'),
          email: member.email,
          password: PASSWORD,
          inviteCode: code,
        })
        .expect(201);
      expect(back.body.user.id).toBe(member.user.id);
    });

    describe('invitations whose maker can no longer make them', () => {
      const join = (tenantName: string, inviteCode: string) => {
        const email = `${unique('joiner')}@example.com`;
        return http()
          .post('/api/v1/auth/register')
          .send({ tenantName, username: unique('joiner'), email, password: PASSWORD, inviteCode });
      };
      const members = async (tenantId: string): Promise<number> =>
        Number(
          (
            await ctx.db.query(
              'SELECT count(*) AS n FROM users WHERE tenant_id = $1 AND removed_at IS NULL',
              [tenantId],
            )
          ).rows[0].n,
        );
      /** A revoked code answers exactly like one that never existed, and lets nobody in. */
      const expectRefused = async (tenant: { id: string; name: string }, code: string) => {
        const before = await members(tenant.id);
        const unknown = await join(tenant.name, `never-issued-${unique('c')}`).expect(403);
        const refused = await join(tenant.name, code).expect(403);
        expect(refused.body.code).toBe('INVITATION_INVALID');
        expect(refused.body.message).toBe(unknown.body.message);
        expect(await members(tenant.id)).toBe(before);
      };
      const demote = (owner: Member, id: string, role: string) =>
        http()
          .patch(`/api/v1/users/${id}`)
          .set(...bearer(owner.token))
          .send({ role })
          .expect(200);

      it("should stop an admin's invitation once the admin is demoted to member", async () => {
        const { owner, admin } = await tenantWithRoles(http);
        const code = await invite(http, admin.token);
        await demote(owner, admin.user.id, 'member');
        await expectRefused(owner.tenant, code);
      });

      it("should stop an admin's invitation once the admin is removed", async () => {
        const { owner, admin } = await tenantWithRoles(http);
        const code = await invite(http, admin.token);
        await http()
          .delete(`/api/v1/users/${admin.user.id}`)
          .set(...bearer(owner.token))
          .expect(204);
        await expectRefused(owner.tenant, code);
      });

      it("should stop an owner's admin invitation once they step down to admin, not their member invitation", async () => {
        const { owner, admin } = await tenantWithRoles(http);
        const asAdmin = await invite(http, owner.token, 'admin');
        const asMember = await invite(http, owner.token, 'member');
        await demote(owner, admin.user.id, 'owner');
        await demote(owner, owner.user.id, 'admin');
        await expectRefused(owner.tenant, asAdmin);
        const joined = await join(owner.tenant.name, asMember).expect(201);
        expect(joined.body.user.role).toBe('member');
      });

      it('should stop the invitations of an owner who leaves', async () => {
        const { owner, admin } = await tenantWithRoles(http);
        const code = await invite(http, owner.token, 'admin');
        await demote(owner, admin.user.id, 'owner');
        await http()
          .post('/api/v1/tenants/current/leave')
          .set(...bearer(owner.token))
          .expect(204);
        await expectRefused(owner.tenant, code);
      });

      it('should keep an invitation already used as it was while the pending one stops', async () => {
        const { owner, admin } = await tenantWithRoles(http);
        const code = await invite(http, admin.token);
        const pending = await invite(http, admin.token);
        const joined = await join(owner.tenant.name, code).expect(201);
        const used = () =>
          ctx.db.query(
            `SELECT role, used_at, used_by::text, expires_at FROM invitations
              WHERE tenant_id = $1 AND code_hash = encode(sha256(convert_to($2, 'UTF8')), 'hex')`,
            [owner.tenant.id, code],
          );
        const before = (await used()).rows;
        expect(before).toEqual([expect.objectContaining({ used_by: joined.body.user.id })]);
        await demote(owner, admin.user.id, 'member');
        await http()
          .delete(`/api/v1/users/${admin.user.id}`)
          .set(...bearer(owner.token))
          .expect(204);
        expect((await used()).rows).toEqual(before);
        await expectRefused(owner.tenant, pending);
        await http()
          .get(`/api/v1/users/${joined.body.user.id}`)
          .set(...bearer(owner.token))
          .expect(200);
      });
    });

    it("should answer a removed member's token on the account routes with 401, not 404", async () => {
      const { owner, member } = await tenantWithRoles(http);
      await http()
        .delete(`/api/v1/users/${member.user.id}`)
        .set(...bearer(owner.token))
        .expect(204);
      const calls: Array<[string, object]> = [
        ['/api/v1/auth/logout', { everywhere: true }],
        ['/api/v1/auth/password', { currentPassword: PASSWORD, newPassword: 'a brand new phrase' }],
        ['/api/v1/tenants/current/leave', {}],
      ];
      for (const [path, body] of calls) {
        const response = await http()
          .post(path)
          .set(...bearer(member.token))
          .send(body);
        expect({ path, status: response.status, code: response.body.code }).toEqual({
          path,
          status: 401,
          code: 'UNAUTHENTICATED',
        });
      }
      // Nothing changed: the password is the one it was.
      await http()
        .post('/api/v1/auth/login')
        .send({ email: member.email, password: 'a brand new phrase' })
        .expect(401);
    });
  });

  describe('operators', () => {
    it('should refresh operator sessions and end an operator token when the operator goes', async () => {
      const token = await operatorToken(http);
      const login = await http().post('/api/v1/admin/auth/login').send(OPERATOR).expect(200);
      const next = await http()
        .post('/api/v1/admin/auth/refresh')
        .send({ refreshToken: login.body.refreshToken })
        .expect(200);
      await http()
        .get('/api/v1/admin/citus/nodes')
        .set(...bearer(next.body.accessToken))
        .expect(200);
      // A tenant refresh token is not an operator's, nor the other way round.
      const member = await register(http);
      const tenantSession = await loginBody(member.email);
      await http()
        .post('/api/v1/admin/auth/refresh')
        .send({ refreshToken: tenantSession.refreshToken })
        .expect(401);
      await refresh(next.body.refreshToken).expect(401);

      // A second operator, deleted while their token is still fresh.
      const email = `${unique('ops')}@example.com`;
      const { rows } = await ctx.db.query(
        `INSERT INTO operators (email, password_hash)
         SELECT $1, password_hash FROM operators WHERE email = $2 RETURNING id::text`,
        [email, OPERATOR.email],
      );
      const gone = await http()
        .post('/api/v1/admin/auth/login')
        .send({ email, password: OPERATOR.password })
        .expect(200);
      await http()
        .get('/api/v1/admin/citus/nodes')
        .set(...bearer(gone.body.accessToken))
        .expect(200);
      await ctx.db.query('DELETE FROM operators WHERE id = $1', [rows[0].id]);
      await http()
        .get('/api/v1/admin/citus/nodes')
        .set(...bearer(gone.body.accessToken))
        .expect(401);
      await http()
        .post('/api/v1/admin/auth/refresh')
        .send({ refreshToken: gone.body.refreshToken })
        .expect(401);
      expect(token).toBeTruthy();
    });
  });
});
