/**
 * The bare baseline the service is measured against: node:http, a pg pool of the same size, an
 * HS256 signature/expiry/issuer/audience check with a key built once, and the same single-shard
 * statements the service sends for the same routes, with the same tokens and rows. No framework,
 * no logging, no validation beyond what the statements need: the cost floor of the work itself.
 * POST /api/v1/auth/login is bcrypt-only (one compare at the service's cost, nothing else).
 */
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import * as bcrypt from 'bcrypt';
import { Pool } from 'pg';
import { NOTE_SQL as SQL } from './statements';

const env = process.env;
const pool = new Pool({
  connectionString: env.DATABASE_URL,
  max: Number(env.DB_POOL_SIZE ?? 10),
});
const key = createSecretKey(Buffer.from(env.JWT_SECRET ?? ''));
const issuer = env.JWT_ISSUER ?? 'notes-service';
const audience = env.JWT_AUDIENCE ?? 'notes-api';
const cost = Number(env.BCRYPT_COST ?? 12);
const loginPassword = env.BARE_LOGIN_PASSWORD ?? 'password';
let loginHash = '';

interface Claims {
  sub: string;
  tid: string;
  role: string;
}

function verify(authorization: string | undefined): Claims | undefined {
  if (!authorization?.startsWith('Bearer ')) return undefined;
  const token = authorization.slice(7);
  const dot = token.lastIndexOf('.');
  if (dot < 0) return undefined;
  const expected = createHmac('sha256', key).update(token.slice(0, dot)).digest();
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const [header, payload] = token
    .slice(0, dot)
    .split('.')
    .map(
      (part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>,
    );
  if (header.alg !== 'HS256') return undefined;
  const exp = payload.exp;
  if (typeof exp !== 'number' || exp * 1000 <= Date.now()) return undefined;
  if (payload.iss !== issuer || payload.aud !== audience || payload.scope !== 'tenant') {
    return undefined;
  }
  return payload as unknown as Claims;
}

interface NoteRow {
  id: string;
  title: string | null;
  content: string;
  userId: string;
  createdAt: Date;
  updatedAt: Date;
}

const view = (row: NoteRow) => ({
  id: row.id,
  title: row.title,
  content: row.content,
  authorId: row.userId,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    req.on('error', reject);
  });
}

const ID = /^\/api\/v1\/notes\/(\d+)$/;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const [path, query = ''] = (req.url ?? '/').split('?');
  if (path === '/health') return send(res, 200, { status: 'ok' });
  if (path === '/api/v1/auth/login' && req.method === 'POST') {
    const body = await readJson(req);
    const ok = await bcrypt.compare(String(body.password), loginHash);
    return send(res, ok ? 200 : 401, { ok });
  }
  const claims = verify(req.headers.authorization);
  if (!claims) return send(res, 401, { statusCode: 401 });
  const manager = claims.role === 'owner' || claims.role === 'admin';

  if (path === '/api/v1/notes') {
    if (req.method === 'GET') {
      const params = new URLSearchParams(query);
      const limit = Number(params.get('limit') ?? 20);
      const cursor = params.get('cursor');
      const { rows } = cursor
        ? await pool.query<NoteRow>(SQL.nextPage, [claims.tid, cursor, limit + 1])
        : await pool.query<NoteRow>(SQL.firstPage, [claims.tid, limit + 1]);
      const more = rows.length > limit;
      const items = (more ? rows.slice(0, limit) : rows).map(view);
      return send(res, 200, { items, nextCursor: more ? items[items.length - 1].id : null });
    }
    if (req.method === 'POST') {
      const body = await readJson(req);
      const { rows } = await pool.query<NoteRow>(SQL.insert, [
        claims.tid,
        claims.sub,
        body.title ?? null,
        body.content,
      ]);
      return send(res, 201, view(rows[0]));
    }
  }
  const id = ID.exec(path)?.[1];
  if (id && req.method === 'GET') {
    const { rows } = await pool.query<NoteRow>(SQL.byId, [claims.tid, id, 1]);
    return rows.length ? send(res, 200, view(rows[0])) : send(res, 404, { statusCode: 404 });
  }
  if (id && req.method === 'PATCH') {
    const body = await readJson(req);
    // The service's two shapes: managers may change any note, members only their own.
    const { rows } = manager
      ? await pool.query<NoteRow>(SQL.updateContent, [claims.tid, body.content, id])
      : await pool.query<NoteRow>(SQL.updateOwnContent, [claims.tid, body.content, id, claims.sub]);
    return rows.length ? send(res, 200, view(rows[0])) : send(res, 404, { statusCode: 404 });
  }
  return send(res, 404, { statusCode: 404 });
}

async function main(): Promise<void> {
  loginHash = await bcrypt.hash(loginPassword, cost);
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error(error);
      if (!res.headersSent) send(res, 500, { statusCode: 500 });
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(Number(env.PORT ?? 3001), '127.0.0.1');
  const stop = (): void => {
    server.close(() => void pool.end().then(() => process.exit(0)));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
