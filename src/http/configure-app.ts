import { RequestMethod } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { OverloadMonitor, OverloadReason } from './overload';
import { ShutdownState } from './shutdown-state';
import { runAsRequest } from '../database/statement-tags';
import { TenantContext } from '../tenancy/tenant-context';
import { LOGGER } from '../logging/logging.module';
import { logRequests } from '../logging/request-log';
import { recordRequests } from '../metrics/http-metrics';
import { MetricsService } from '../metrics/metrics.service';
import { acceptJsonOnly, limitCredentialBodies, rejectUnstorableParameters } from './http-adapter';
import { BEARER_SCHEME, OPERATOR_SCHEME, splitDocument } from './openapi';
import { securityHeaders } from './security-headers';
import { buildValidationPipe } from './validation';
import { serveWebConsole } from './web-console';

export const API_PREFIX = 'api/v1';
const ADMIN_PATHS = `/${API_PREFIX}/admin/`;

/**
 * Whether to shed this request (see OverloadMonitor). Health answers for itself (readiness says
 * `overloaded`); the operators' routes have a pool of their own, so a full tenant pool or a crowd
 * of tenants' requests does not lock operators out of the console that shows why.
 */
function shedReason(overload: OverloadMonitor, url: string): OverloadReason | undefined {
  if (url.startsWith('/health')) return undefined;
  const reason = overload.reason();
  return reason !== 'event_loop' && url.startsWith(ADMIN_PATHS) ? undefined : reason;
}

/** Requests that count towards SHED_MAX_IN_FLIGHT: everything but health and the operators'. */
const countsInFlight = (url: string) => !url.startsWith('/health') && !url.startsWith(ADMIN_PATHS);

/**
 * Everything about the HTTP surface that is not a route: shared by main.ts and the e2e tests so
 * the tests exercise the same body handling, headers, prefix, validation and docs as production.
 */
export function configureApp(app: NestFastifyApplication): NestFastifyApplication {
  const config = app.get<AppConfig>(APP_CONFIG);
  const instance = app.getHttpAdapter().getInstance();

  const shutdown = app.get(ShutdownState);
  const security = securityHeaders({
    contentSecurityPolicy: {
      // Swagger UI styles itself inline and shows data: images; nothing else is relaxed.
      directives: {
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        // Served over plain HTTP inside private networks too; upgrading would break the docs.
        'upgrade-insecure-requests': null,
      },
    },
  });
  const overload = app.get(OverloadMonitor);
  const metrics = app.get(MetricsService);
  instance.addHook('onRequest', (request, reply, done) => {
    reply.headers(security);
    reply.header('x-request-id', request.id);
    // Once shutdown has begun, every answer closes its connection: otherwise a keep-alive
    // connection busy when the listener closes stays open, idle, and holds the close up.
    if (shutdown.shuttingDown) reply.header('connection', 'close');
    const shed = shedReason(overload, request.url);
    if (shed) {
      metrics.shed(shed);
      void reply
        .code(503)
        .header('retry-after', String(overload.retryAfterSeconds))
        .send({
          statusCode: 503,
          code: 'OVERLOADED',
          message: `The service is overloaded: retry in ${overload.retryAfterSeconds} s`,
        });
      return;
    }
    done();
  });
  limitCredentialBodies(instance);
  rejectUnstorableParameters(instance);
  // Every request gets its own tenant slot, filled by the auth guard. Opened before the handler
  // (preValidation runs after the body is read, whose events would lose the async context).
  const tenants = app.get(TenantContext);
  // The request's id goes along too: its statements carry it to the database (statement-tags.ts).
  // Counted in flight from here, once the body is in: a caller trickling a body slowly holds
  // no place that a served request needs.
  instance.addHook('preValidation', (request, reply, done) => {
    if (countsInFlight(request.url)) overload.admit(reply.raw);
    tenants.runRequest(() => runAsRequest(request.id, done));
  });
  logRequests(instance, app.get<Logger>(LOGGER));
  recordRequests(instance, metrics);
  acceptJsonOnly(instance);

  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
      exposedHeaders: ['X-Request-Id', 'Retry-After'],
      maxAge: 600,
    });
  }
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
    ],
  });
  app.useGlobalPipes(buildValidationPipe());
  // Same origin as the API, so the console needs no CORS and works under the CSP above.
  serveWebConsole(instance, app.get<Logger>(LOGGER));

  if (!config.swagger) return app;
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Notes service')
      .setDescription(
        'Multi-tenant notes on Citus. Register or log in under `auth`, then press Authorize ' +
          'and paste the `accessToken`.',
      )
      .setVersion('1')
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Tenant user token' },
        BEARER_SCHEME,
      )
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Operator token' },
        OPERATOR_SCHEME,
      )
      .build(),
  );
  const { tenant, operator } = splitDocument(document);
  SwaggerModule.setup('docs', app, tenant, { jsonDocumentUrl: 'docs-json' });
  SwaggerModule.setup('admin-docs', app, operator, { jsonDocumentUrl: 'admin-docs-json' });

  return app;
}
