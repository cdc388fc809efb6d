import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
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
  });
}

/**
 * JSON is the only body the API reads. Anything else with a body is a 415, a compressed body
 * too (nothing here inflates it), and invalid JSON or prototype-poisoning keys are a 400 that
 * does not echo the body back.
 */
export function acceptJsonOnly(instance: FastifyInstance): void {
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (request, body: string, done) => {
      const encoding = request.headers['content-encoding'];
      if (encoding !== undefined && encoding !== 'identity') {
        done(
          new AppError('UNSUPPORTED_MEDIA_TYPE', 'Compressed request bodies are not accepted'),
          undefined,
        );
        return;
      }
      if (body.length === 0) {
        done(new AppError('VALIDATION_FAILED', 'Request body is empty'), undefined);
        return;
      }
      try {
        done(
          null,
          secureJson.parse(body, undefined, {
            protoAction: 'error',
            constructorAction: 'error',
          }),
        );
      } catch {
        done(new AppError('VALIDATION_FAILED', 'Request body is not valid JSON'), undefined);
      }
    },
  );
}
