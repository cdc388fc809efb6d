import { INestApplication, RequestMethod } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { BEARER_SCHEME, OPERATOR_SCHEME } from '../auth/auth.decorators';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { buildValidationPipe } from './validation';

export const API_PREFIX = 'api/v1';

/**
 * Everything about the HTTP surface that is not a route: shared by main.ts and the e2e tests so
 * the tests exercise the same body limits, prefix, validation and docs as production.
 */
export function configureApp(app: NestExpressApplication): INestApplication {
  const config = app.get<AppConfig>(APP_CONFIG);

  app.disable('x-powered-by');
  app.use(
    helmet({
      contentSecurityPolicy: {
        // Swagger UI styles itself inline and shows data: images; nothing else is relaxed.
        directives: {
          'style-src': ["'self'", "'unsafe-inline'"],
          'img-src': ["'self'", 'data:'],
          // Served over plain HTTP inside private networks too; upgrading would break the docs.
          'upgrade-insecure-requests': null,
        },
      },
    }),
  );
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
      exposedHeaders: ['X-Request-Id', 'Retry-After'],
      maxAge: 600,
    });
  }
  app.useBodyParser('json', { limit: config.bodyLimit, strict: true });
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
    ],
  });
  app.useGlobalPipes(buildValidationPipe());

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
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });

  return app;
}
