import { FastifyInstance } from 'fastify';
import { MetricsService, UNMATCHED_ROUTE } from './metrics.service';

/**
 * Counts and times every answered request by method, route pattern (`/api/v1/notes/:id`; a
 * request that matched no route, a 404 or a request refused before routing, is `unmatched`) and
 * status. The pattern, never the URL, keeps the number of series bounded whatever clients send.
 * Nothing is added when metrics are off, so they cost a request nothing then.
 */
export function recordRequests(instance: FastifyInstance, metrics: MetricsService): void {
  if (!metrics.enabled) return;
  instance.addHook('onResponse', (request, reply, done) => {
    metrics.request(
      request.method,
      request.routeOptions.url ?? UNMATCHED_ROUTE,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });
}
