import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Global, Module } from '@nestjs/common';
import { LoggerModule, Params } from 'nestjs-pino';
import { DestinationStream } from 'pino';
import { Principal } from '../auth/authenticated-user';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/** Where log lines go; tests replace it to read what the service logs. Default: stdout. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

type Request = IncomingMessage & {
  id?: string | number;
  user?: Principal;
  route?: { path?: string };
  originalUrl?: string;
};

/**
 * One JSON line per request with request id, tenant, user, route, status and duration. Bodies
 * and headers are never logged, so passwords, tokens and note contents cannot reach the logs.
 */
export function buildLoggerParams(config: AppConfig, destination?: DestinationStream): Params {
  return {
    pinoHttp: [
      {
        level: config.log.level,
        genReqId: (req: IncomingMessage, res: ServerResponse) => {
          const incoming = req.headers['x-request-id'];
          const id =
            typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
          res.setHeader('X-Request-Id', id);
          return id;
        },
        customProps: (req: IncomingMessage) => {
          const request = req as Request;
          const user = request.user;
          return {
            route: request.route?.path,
            tenantId: user?.kind === 'user' ? user.tenantId : undefined,
            userId: user?.kind === 'user' ? user.userId : undefined,
            operatorId: user?.kind === 'operator' ? user.operatorId : undefined,
          };
        },
        serializers: {
          req: (req: Request) => ({
            id: req.id,
            method: req.method,
            // The path only: query strings are dropped with everything else a client sent.
            url: (req.originalUrl ?? req.url ?? '').split('?')[0],
          }),
          res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
        },
        customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
          error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
        transport:
          config.log.pretty && !destination
            ? { target: 'pino-pretty', options: { singleLine: true, colorize: true } }
            : undefined,
      },
      ...(destination ? [destination] : []),
    ] as Params['pinoHttp'],
  };
}

@Global()
@Module({
  imports: [
    LoggerModule.forRootAsync({
      providers: [{ provide: LOG_DESTINATION, useValue: undefined }],
      inject: [APP_CONFIG, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination?: DestinationStream) =>
        buildLoggerParams(config, destination),
    }),
  ],
})
export class LoggingModule {}
