import { Client } from 'pg';
import { bearer, Http, Member } from './e2e';

/**
 * Users writing and reading notes in a loop until stopped, as a tenant's people would while an
 * operator reshapes the cluster. `stop()` returns every status and, per writer, the ids
 * answered 201.
 */
export function startTraffic(
  http: () => Http,
  lanes: Array<{ writer: Member; reader: Member; readIds: string[] }>,
) {
  let running = true;
  const statuses: number[] = [];
  const written = new Map<string, string[]>();
  const loops = lanes.map(async ({ writer, reader, readIds }) => {
    const ids: string[] = [];
    written.set(writer.user.id, ids);
    for (let i = 0; running; i += 1) {
      const created = await http()
        .post('/api/v1/notes')
        .set(...bearer(writer.token))
        .send({ content: `during ${i}` });
      statuses.push(created.status);
      if (created.status === 201) ids.push(created.body.id as string);
      const read = await http()
        .get(`/api/v1/notes/${readIds[i % readIds.length]}`)
        .set(...bearer(reader.token));
      statuses.push(read.status);
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { statuses, written };
    },
  };
}

/** Every note id the token's tenant can read, through the API's pages. */
export async function allNoteIds(http: () => Http, token: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await http()
      .get(`/api/v1/notes?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
      .set(...bearer(token))
      .expect(200);
    ids.push(...page.body.items.map((n) => n.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  return ids;
}

/**
 * Takes a note's row lock on a connection of its own (the superuser's, outside the service) and
 * keeps it until `release()`: the service's writes to that note wait meanwhile, which makes a
 * request stay in progress for as long as a test needs.
 */
export async function holdNote(
  tenantId: string,
  noteId: string,
): Promise<{ release: () => Promise<void> }> {
  const lock = new Client({ connectionString: process.env.E2E_DATABASE_URL });
  await lock.connect();
  try {
    await lock.query('BEGIN');
    await lock.query(`SELECT 1 FROM notes WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [
      tenantId,
      noteId,
    ]);
  } catch (error) {
    await lock.end();
    throw error;
  }
  let released: Promise<void> | undefined;
  return {
    // Once, however often it is called (a test's finally after its own release).
    release: () =>
      (released ??= lock.query('COMMIT').then(
        () => lock.end(),
        () => lock.end(),
      )),
  };
}
