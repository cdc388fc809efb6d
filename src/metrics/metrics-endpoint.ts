import { createServer, Server } from 'node:http';

/** What a scrape answers: the exposition text and its content type. */
export interface Scrape {
  contentType: string;
  body: string;
}

/**
 * A plain node:http server, apart from Fastify and Nest's routing: `GET /metrics` answers
 * `scrape()`, every other request 404. No authentication: it listens on 127.0.0.1 unless
 * METRICS_HOST says otherwise, and whoever widens that decides who may read it.
 */
export function createMetricsServer(scrape: () => Promise<Scrape>): Server {
  return createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      return;
    }
    scrape().then(
      ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
      (error: unknown) =>
        response
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`Metrics could not be collected: ${error instanceof Error ? error.message : ''}\n`),
    );
  });
}

/** Listens on METRICS_HOST:METRICS_PORT, or fails with a message naming both. */
export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) =>
      reject(
        new Error(
          `metrics cannot listen on ${host}:${port} (METRICS_HOST, METRICS_PORT): ${error.message}`,
        ),
      );
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** Stops listening and drops kept-alive connections (Prometheus keeps one open between scrapes). */
export function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}
