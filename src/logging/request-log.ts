import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'pino';

/** Who made the request, as the auth guard left it on the request (only what is logged). */
interface Caller {
  kind?: string;
  tenantId?: string;
  userId?: string;
  operatorId?: string;
}

type Request = FastifyRequest & { user?: Caller };

/**
 * One JSON line per answered request: request id, method, path, client address, route, status,
 * duration, and who asked (tenant and user, or operator). Bodies, headers and query strings are
 * never logged, so passwords, tokens and note contents cannot reach the logs. The client address
 * is the one the rate limits count (X-Forwarded-For as far as TRUST_PROXY believes it), so a 429
 * in the logs says whom it stopped.
 */
export function logRequests(instance: FastifyInstance, logger: Logger): void {
  instance.addHook('onResponse', (request: Request, reply: FastifyReply, done) => {
    const status = reply.statusCode;
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (logger.isLevelEnabled(level)) {
      const user = request.user;
      const url = request.url;
      const query = url.indexOf('?');
      logger[level](
        {
          req: {
            id: request.id,
            method: request.method,
            url: query < 0 ? url : url.slice(0, query),
            remoteAddress: request.ip,
          },
          res: { statusCode: status },
          route: request.routeOptions.url,
          tenantId: user?.kind === 'user' ? user.tenantId : undefined,
          userId: user?.kind === 'user' ? user.userId : undefined,
          operatorId: user?.kind === 'operator' ? user.operatorId : undefined,
          responseTime: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request completed',
      );
    }
    done();
  });
}
