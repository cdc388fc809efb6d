import { Response } from 'supertest';
import { bearer, Http, Member, tenantWithRoles, useTestApp } from './harness/e2e';

describe('Notes (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();
  let owner: Member;
  let admin: Member;
  let member: Member;

  beforeAll(async () => {
    ({ owner, admin, member } = await tenantWithRoles(http));
  });

  const create = async (who: Member, body: object = { content: 'text' }) =>
    (
      await http()
        .post('/api/v1/notes')
        .set(...bearer(who.token))
        .send(body)
        .expect(201)
    ).body;

  it('should create a note and read it back', async () => {
    const note = await create(member, { title: 'Groceries', content: 'milk, eggs' });
    expect(note).toEqual({
      id: expect.stringMatching(/^\d+$/),
      title: 'Groceries',
      content: 'milk, eggs',
      authorId: member.user.id,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const read = await http()
      .get(`/api/v1/notes/${note.id}`)
      .set(...bearer(owner.token))
      .expect(200);
    expect(read.body).toEqual(note);
    const { rows } = await ctx.db.query('SELECT tenant_id::text FROM notes WHERE id = $1', [
      note.id,
    ]);
    expect(rows).toEqual([{ tenant_id: member.tenant.id }]);
  });

  it('should default a missing title to null', async () => {
    const note = await create(member, { content: 'untitled' });
    expect(note.title).toBeNull();
  });

  it('should page newest first with a keyset cursor, no gaps and no repeats', async () => {
    const { owner: solo } = await tenantWithRoles(http);
    const created: string[] = [];
    for (let i = 0; i < 5; i += 1) created.push((await create(solo, { content: `n${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response: Response = await http()
        .get('/api/v1/notes')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(...bearer(solo.token))
        .expect(200);
      seen.push(...response.body.items.map((n: { id: string }) => n.id));
      cursor = response.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen).toEqual([...created].reverse());
    expect(pages).toBe(3);
  });

  it("should filter to the caller's own notes with author=me", async () => {
    const mine = await create(admin, { content: 'admin note' });
    await create(member, { content: 'member note' });
    const response = await http()
      .get('/api/v1/notes?author=me&limit=100')
      .set(...bearer(admin.token))
      .expect(200);
    expect(response.body.items.length).toBeGreaterThan(0);
    expect(
      response.body.items.every((n: { authorId: string }) => n.authorId === admin.user.id),
    ).toBe(true);
    expect(response.body.items.map((n: { id: string }) => n.id)).toContain(mine.id);
  });

  it('should let the author update title and content, and clear the title with null', async () => {
    const note = await create(member, { title: 'old', content: 'old' });
    const updated = await http()
      .patch(`/api/v1/notes/${note.id}`)
      .set(...bearer(member.token))
      .send({ content: 'new' })
      .expect(200);
    expect(updated.body).toMatchObject({ id: note.id, title: 'old', content: 'new' });
    expect(new Date(updated.body.updatedAt).getTime()).toBeGreaterThanOrEqual(
      new Date(note.updatedAt).getTime(),
    );
    const cleared = await http()
      .patch(`/api/v1/notes/${note.id}`)
      .set(...bearer(member.token))
      .send({ title: null })
      .expect(200);
    expect(cleared.body).toMatchObject({ title: null, content: 'new' });
  });

  it("should let owners and admins change anyone's note but a member only their own", async () => {
    const ownersNote = await create(owner, { content: 'owner wrote this' });
    const forbidden = await http()
      .patch(`/api/v1/notes/${ownersNote.id}`)
      .set(...bearer(member.token))
      .send({ content: 'member was here' })
      .expect(403);
    expect(forbidden.body.code).toBe('FORBIDDEN');
    await http()
      .delete(`/api/v1/notes/${ownersNote.id}`)
      .set(...bearer(member.token))
      .expect(403);
    const { rows } = await ctx.db.query(
      'SELECT content FROM notes WHERE tenant_id = $1 AND id = $2',
      [owner.tenant.id, ownersNote.id],
    );
    expect(rows).toEqual([{ content: 'owner wrote this' }]);

    const membersNote = await create(member, { content: 'member wrote this' });
    await http()
      .patch(`/api/v1/notes/${membersNote.id}`)
      .set(...bearer(admin.token))
      .send({ content: 'moderated' })
      .expect(200);
    await http()
      .delete(`/api/v1/notes/${membersNote.id}`)
      .set(...bearer(owner.token))
      .expect(204);
    await http()
      .get(`/api/v1/notes/${membersNote.id}`)
      .set(...bearer(owner.token))
      .expect(404);
  });

  it("should delete the author's own note with 204 and then answer 404", async () => {
    const note = await create(member);
    await http()
      .delete(`/api/v1/notes/${note.id}`)
      .set(...bearer(member.token))
      .expect(204, '');
    const gone = await http()
      .get(`/api/v1/notes/${note.id}`)
      .set(...bearer(member.token))
      .expect(404);
    expect(gone.body.code).toBe('NOTE_NOT_FOUND');
    await http()
      .delete(`/api/v1/notes/${note.id}`)
      .set(...bearer(member.token))
      .expect(404);
  });

  it.each([
    ['POST', {}, 'content'],
    ['POST', { content: '' }, 'content must be longer'],
    ['POST', { content: 'x'.repeat(20_001) }, 'content must be shorter'],
    ['POST', { content: 5 }, 'content must be a string'],
    ['POST', { content: 'x', title: 't'.repeat(201) }, 'title must be shorter'],
    ['POST', { content: 'x', authorId: '1' }, 'property authorId should not exist'],
    ['POST', { content: 'x', tenantId: '1' }, 'property tenantId should not exist'],
    ['PATCH', {}, 'Send at least one of title, content'],
    ['PATCH', { content: '' }, 'content must be longer'],
    ['PATCH', { title: 7 }, 'title must be a string'],
  ])('should answer %s with %j by a 400 naming the field', async (method, body, message) => {
    const note = await create(member);
    const call =
      method === 'POST' ? http().post('/api/v1/notes') : http().patch(`/api/v1/notes/${note.id}`);
    const response = await call
      .set(...bearer(member.token))
      .send(body)
      .expect(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
    expect(response.body.message).toContain(message);
    const { rows } = await ctx.db.query(
      'SELECT content FROM notes WHERE tenant_id = $1 AND id = $2',
      [member.tenant.id, note.id],
    );
    expect(rows).toEqual([{ content: 'text' }]);
  });

  it.each([
    ['/api/v1/notes/abc', 'id must be a positive integer id'],
    ['/api/v1/notes/0', 'id must be a positive integer id'],
    ['/api/v1/notes/-1', 'id must be a positive integer id'],
    ['/api/v1/notes/99999999999999999999', 'id must be a positive integer id'],
    ['/api/v1/notes/1.5', 'id must be a positive integer id'],
    ['/api/v1/notes?limit=0', 'limit must be at least 1'],
    ['/api/v1/notes?limit=101', 'limit must be at most 100'],
    ['/api/v1/notes?limit=ten', 'limit must be an integer'],
    ['/api/v1/notes?cursor=abc', 'cursor must be a nextCursor value'],
    ['/api/v1/notes?cursor=9223372036854775808', 'cursor must be a nextCursor value'],
    ['/api/v1/notes?author=someone', 'author must be "me"'],
    ['/api/v1/notes?sort=asc', 'property sort should not exist'],
    ['/api/v1/users?limit=1000', 'limit must be at most 100'],
    ['/api/v1/users/abc', 'id must be a positive integer id'],
  ])('should answer GET %s with a 400 naming the problem', async (url, message) => {
    const response = await http()
      .get(url)
      .set(...bearer(member.token))
      .expect(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
    expect(response.body.message).toContain(message);
  });

  it('should answer the largest valid id that does not exist with 404', async () => {
    await http()
      .get('/api/v1/notes/9223372036854775807')
      .set(...bearer(member.token))
      .expect(404);
  });
});
