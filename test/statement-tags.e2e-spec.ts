import { bearer, citusMode, Http, operatorToken, register, useTestApp } from './harness/e2e';
import { holdNote } from './harness/traffic';

/** With DB_REQUEST_IDS, a slow statement in the activity views leads back to its API request. */
describe('Statements carry their request id (e2e)', () => {
  const ctx = useTestApp({ DB_REQUEST_IDS: 'true' });
  const http = (): Http => ctx.http();

  it('should show the request id of a waiting statement in the operators’ live activity, on every node it runs on', async () => {
    const member = await register(http);
    const operator = await operatorToken(http);
    const note = await http()
      .post('/api/v1/notes')
      .set(...bearer(member.token))
      .send({ content: 'to be held' })
      .expect(201);
    const held = await holdNote(member.tenant.id, note.body.id);
    try {
      const requestId = `trace-${Date.now()}`;
      const edit = http()
        .patch(`/api/v1/notes/${note.body.id}`)
        .set(...bearer(member.token))
        .set('x-request-id', requestId)
        .send({ content: 'edited while held' })
        .then((response) => response.status);
      let rows: Array<{ requestId: string | null; query: string; workerQuery: boolean }> = [];
      for (let i = 0; i < 50; i += 1) {
        const activity = await http()
          .get('/api/v1/admin/citus/activity')
          .set(...bearer(operator))
          .expect(200);
        rows = activity.body.activity.filter(
          (row: { requestId: string | null }) => row.requestId === requestId,
        );
        if (rows.some((row) => /UPDATE/i.test(row.query))) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(rows.some((row) => /UPDATE/i.test(row.query) && !row.workerQuery)).toBe(true);
      // On Citus the worker runs the shard's statement on the coordinator's behalf: same request.
      if (citusMode) expect(rows.some((row) => row.workerQuery)).toBe(true);
      await held.release();
      await expect(edit).resolves.toBe(200);
    } finally {
      await held.release();
    }
  });
});

describe('Statements without request ids (e2e)', () => {
  const ctx = useTestApp();

  it('should leave application_name alone by default', async () => {
    const member = await register(ctx.http);
    await ctx
      .http()
      .get('/api/v1/notes')
      .set(...bearer(member.token))
      .set('x-request-id', 'not-labelled-1')
      .expect(200);
    const { rows } = await ctx.db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'notes req not-labelled-1'`,
    );
    expect(rows[0].n).toBe(0);
  });
});
