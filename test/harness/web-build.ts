import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const BUILT_PAGE = join(ROOT, 'dist', 'web', 'index.html');

/** Newest modification time under `dir` (files only). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The e2e app serves the console from dist/web: a fresh clone, or console sources edited since
 * the last build, get `npm run build:web` once per run, so the pages under test are the sources.
 */
export function ensureWebBuild(log: (message: string) => void): void {
  const sources = Math.max(
    newestMtime(join(ROOT, 'web')),
    statSync(join(ROOT, 'package-lock.json')).mtimeMs,
  );
  if (existsSync(BUILT_PAGE) && statSync(BUILT_PAGE).mtimeMs >= sources) return;
  log('building the web console (npm run build:web)');
  const result = spawnSync('npm', ['run', '--silent', 'build:web'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`npm run build:web failed:\n${result.stdout}\n${result.stderr}`);
  }
}

/**
 * Debian's Chromium (`apt-get install chromium`; CHROMIUM_BIN to point elsewhere). Browsers are
 * never downloaded: without one the [browser] specs are skipped and counted.
 */
export function chromiumBinary(env: Record<string, string | undefined>): string | undefined {
  const explicit = env.CHROMIUM_BIN?.trim();
  if (explicit) return existsSync(explicit) ? explicit : undefined;
  const which = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], {
    encoding: 'utf8',
  });
  const found = which.status === 0 ? which.stdout.trim().split('\n')[0] : '';
  if (found) return found;
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
}
