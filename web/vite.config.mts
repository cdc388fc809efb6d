import { gzipSync, brotliCompressSync } from 'node:zlib';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, Plugin } from 'vite';

/**
 * Gzip and Brotli copies of every text asset next to it: the service sends them as they are
 * (@fastify/static preCompressed), so no request pays for compression.
 */
function precompress(): Plugin {
  return {
    name: 'precompress',
    apply: 'build',
    // After the HTML pages are in the bundle, so they get their copies too.
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (!/\.(js|css|html|svg)$/.test(file.fileName)) continue;
        const source = file.type === 'chunk' ? file.code : file.source;
        const bytes = typeof source === 'string' ? Buffer.from(source) : Buffer.from(source);
        for (const [suffix, compress] of [
          ['.gz', (data: Buffer) => gzipSync(data, { level: 9 })],
          ['.br', (data: Buffer) => brotliCompressSync(data)],
        ] as const) {
          this.emitFile({
            type: 'asset',
            fileName: file.fileName + suffix,
            source: compress(bytes),
          });
        }
      }
    },
  };
}

const here = dirname(fileURLToPath(import.meta.url));

// Two pages: the tenant pages at / and the operator console at /admin/. Built into dist/web,
// which src/http/web-console.ts serves (and `nest build` empties, so build:web runs after it).
export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: resolve(here, '..', 'dist', 'web'),
    emptyOutDir: true,
    target: 'es2022',
    // The CSP has no 'unsafe-inline' for scripts: nothing may be inlined into the pages.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rolldownOptions: {
      input: {
        tenant: resolve(here, 'index.html'),
        admin: resolve(here, 'admin', 'index.html'),
      },
    },
  },
  plugins: [precompress()],
});
