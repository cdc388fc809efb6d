import { randomUUID } from 'node:crypto';
import { IncomingMessage, STATUS_CODES } from 'node:http';
import { Socket } from 'node:net';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { AppConfig } from '../config/app-config';
import { AppError, toError } from '../errors/app-error';
import { toErrorBody } from './exception.filter';
import { exceedsKeyCount, findExcessiveNesting, MAX_BODY_DEPTH, MAX_BODY_KEYS } from './json-depth';
import { findMalformedQuery, findUnstorableText, unstorableTextMessage } from './storable-text';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** No route takes more than four query parameters; thousands would cost validation CPU. */
export const MAX_QUERY_PARAMETERS = 32;
const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** `64kb` -> 65536 (the config layer has already checked the shape). */
export function byteSize(limit: string): number {
  const [, amount, unit] = /^(\d+)(b|kb|mb)$/i.exec(limit) ?? [];
  if (!amount) throw new Error(`not a byte size: ${limit}`);
  return Number(amount) * UNITS[unit.toLowerCase()];
}

/** The client's X-Request-Id when it is well formed, a fresh UUID otherwise. */
export function requestId(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * What Node's HTTP parser refuses before any request exists (headers over the size limit, a
 * request too slow to arrive, bytes that are not HTTP), answered in the service's error shape
 * instead of Fastify's, and the connection closed.
 */
export function clientErrorResponse(error: { code?: string }): string {
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', 'The request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT', 'The request took too long to arrive']
        : [400, 'VALIDATION_FAILED', 'Malformed request'];
  const body = JSON.stringify({ statusCode: status, code, message });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    `Content-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) socket.end(clientErrorResponse(error));
  else socket.destroy(error);
}

/**
 * Fastify under Nest: the router and request pipeline cost a fraction of Express'. Logging is the
 * service's own (one line per request, see logging/), so Fastify's logger stays off.
 */
export function createHttpAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: byteSize(config.bodyLimit),
    logger: false,
    // No Nest middleware is used: the hooks in configure-app.ts do that work without
    // @fastify/middie's per-request pass.
    skipMiddie: true,
    requestIdHeader: false,
    // Which X-Forwarded-For hops to believe for the client address (rate limits, backoff);
    // without TRUST_PROXY the header is ignored, so a client cannot pick its own address.
    trustProxy: config.trustProxy,
    genReqId: requestId,
    // A request that reached a connection before the listener closed is served, not refused
    // with a bare 503: shutdown lets in-flight work finish (see main.ts).
    return503OnClosing: false,
    // As Express did: /docs/ and /docs are the same route.
    routerOptions: { ignoreTrailingSlash: true },
    // A path that does not decode, or an overlong parameter, is refused by the router before
    // any hook or Nest runs; Fastify's own answer would repeat the path in its own shape.
    clientErrorHandler: answerClientError,
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const body = toErrorBody(error) ?? {
        statusCode: 500,
        code: 'INTERNAL_ERROR',
        message: 'Internal server error',
      };
      void reply.code(body.statusCode).header('x-request-id', request.id).send(body);
    },
  });
}

/** `Content-Encoding` absent, empty or `identity` (in any case, also as a list). */
function isIdentityEncoding(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .every((coding) => coding === '' || coding === 'identity');
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A 400 about one field, shaped like the validation pipe's. */
function fieldError(message: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { errors: [message] });
}

/**
 * Reads a JSON request body or says, as a 400 that names the field where there is one, why the
 * service will not store it. Order matters: nesting is measured on the text before anything
 * recursive (parse, class-transformer, validation) sees it.
 */
export function readJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) throw new AppError('VALIDATION_FAILED', 'Request body is empty');
  let text: string;
  try {
    text = UTF8.decode(raw);
  } catch {
    throw new AppError('VALIDATION_FAILED', 'Request body is not valid UTF-8');
  }
  const nesting = findExcessiveNesting(text, MAX_BODY_DEPTH);
  if (nesting) {
    throw fieldError(
      `${nesting.field ?? 'Request body'} nests deeper than ${MAX_BODY_DEPTH} levels of objects and arrays`,
    );
  }
  if (exceedsKeyCount(text, MAX_BODY_KEYS)) {
    throw fieldError(`Request body has more than ${MAX_BODY_KEYS} keys`);
  }
  let body: unknown;
  try {
    body = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    // Never the parser's message: it quotes the body.
    throw new AppError('VALIDATION_FAILED', 'Request body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('VALIDATION_FAILED', 'Request body must be a JSON object');
  }
  const unstorable = findUnstorableText(body);
  if (unstorable) throw fieldError(unstorableTextMessage(unstorable, 'the body'));
  return body;
}

/**
 * JSON is the only body the API reads. Anything else with a body is a 415, and so is a
 * compressed body (nothing here inflates one, so there is no inflated size to bound or corrupt
 * stream to report). See readJsonBody for what else a body must be.
 */
export function acceptJsonOnly(instance: FastifyInstance): void {
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    (request, raw: Buffer, done) => {
      if (!isIdentityEncoding(request.headers['content-encoding'])) {
        done(
          new AppError(
            'UNSUPPORTED_CONTENT_ENCODING',
            'Compressed request bodies are not accepted: send the JSON without Content-Encoding',
          ),
          undefined,
        );
        return;
      }
      try {
        done(null, readJsonBody(raw));
      } catch (error) {
        done(toError(error), undefined);
      }
    },
  );
}

/**
 * Query and path parameters go through the same text rule as bodies before any route sees them:
 * percent-encoding that is not UTF-8, NUL and unpaired surrogates are a 400 naming the parameter.
 * (A path that does not decode never reaches a route: see frameworkErrors.)
 */
export function rejectUnstorableParameters(instance: FastifyInstance): void {
  instance.addHook('onRequest', (request, _reply, done) => {
    const url = request.url;
    const start = url.indexOf('?');
    const malformed = start < 0 ? undefined : findMalformedQuery(url.slice(start + 1));
    if (malformed) {
      done(
        fieldError(
          malformed.field === undefined
            ? 'A query parameter name is not valid percent-encoded UTF-8'
            : `${malformed.field} is not valid percent-encoded UTF-8`,
        ),
      );
      return;
    }
    if (Object.keys(request.query as object).length > MAX_QUERY_PARAMETERS) {
      done(fieldError(`The query string has more than ${MAX_QUERY_PARAMETERS} parameters`));
      return;
    }
    const inQuery = findUnstorableText(request.query);
    // An unknown path stays a 404: its catch-all parameter is no field of the API.
    const inPath = inQuery || request.is404 ? undefined : findUnstorableText(request.params);
    if (inQuery) done(fieldError(unstorableTextMessage(inQuery, 'the query string')));
    else if (inPath) done(fieldError(unstorableTextMessage(inPath, 'the path')));
    else done();
  });
}

/** The largest body a credential route takes: a few short fields (JSON escapes included). */
export const CREDENTIAL_BODY_LIMIT = 8 * 1024;
const CREDENTIAL_PATHS = ['/api/v1/auth/', '/api/v1/admin/auth/'];

/**
 * The credential routes are open to anyone, so a body far larger than any of them takes is
 * refused from its Content-Length, before a byte of it is read (413 PAYLOAD_TOO_LARGE); other
 * routes keep BODY_LIMIT, which note contents need.
 */
export function limitCredentialBodies(instance: FastifyInstance): void {
  instance.addHook('onRequest', (request, _reply, done) => {
    const length = Number(request.headers['content-length'] ?? 0);
    if (
      length > CREDENTIAL_BODY_LIMIT &&
      CREDENTIAL_PATHS.some((path) => request.url.startsWith(path))
    ) {
      done(new AppError('PAYLOAD_TOO_LARGE', 'Request body is too large'));
      return;
    }
    done();
  });
}
