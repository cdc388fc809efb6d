import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { FastifyInstance, FastifyReply } from 'fastify';
import { Logger } from 'pino';

/** Where `npm run build:web` puts the console (web/vite.config.mts says the same). */
export const WEB_BUILD_DIR = join('dist', 'web');

/** The project root: the nearest folder above this file with a package.json (src/ or dist/src/). */
function projectRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return from;
    dir = parent;
  }
  return dir;
}

/** The built console, when there is one. */
export function webConsoleRoot(): string | undefined {
  const root = join(projectRoot(__dirname), WEB_BUILD_DIR);
  return existsSync(join(root, 'index.html')) ? root : undefined;
}

/**
 * Hashed assets never change under their name, so browsers keep them; the pages themselves are
 * revalidated on every load so a new build is picked up at once.
 */
function cacheHeaders(reply: FastifyReply, path: string): void {
  void reply.header(
    'cache-control',
    /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
  );
}

/**
 * The web console: tenant pages at `/`, the operator console at `/admin`, their assets under
 * `/assets/`. One route per built file (wildcard off), so every other path, `/api/...` above all,
 * still reaches the JSON 404 and the router's checks exactly as before. Gzip and Brotli copies
 * made by the build are sent to browsers that accept them.
 */
export function serveWebConsole(instance: FastifyInstance, logger: Logger): void {
  const root = webConsoleRoot();
  if (!root) {
    logger.warn('web console not built (npm run build:web): / and /admin answer 404');
    return;
  }
  // Registered on Fastify itself: Nest's useStaticAssets types lack half of these options.
  void instance.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    // Swagger UI registers the plugin too; only one may decorate the reply.
    decorateReply: false,
    preCompressed: true,
    globIgnore: ['**/*.gz', '**/*.br'],
    cacheControl: false,
    setHeaders: cacheHeaders,
  });
}
