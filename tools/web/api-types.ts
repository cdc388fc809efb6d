import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * The web console's API types come from the service's own OpenAPI documents (the ones served at
 * /docs-json and /admin-docs-json), turned into TypeScript by openapi-typescript. They are checked
 * in (web/src/api/*.gen.ts): building the console then needs no running service or database, and
 * a change to the API shows up in review as a change to these types. test/web-console.e2e-spec.ts
 * fails when they no longer match the documents the app builds (UPDATE_API_TYPES=1 rewrites them).
 */
const ROOT = resolve(__dirname, '..', '..');
export const API_TYPE_FILES = {
  tenant: { document: '/docs-json', file: join(ROOT, 'web', 'src', 'api', 'tenant-api.gen.ts') },
  operator: {
    document: '/admin-docs-json',
    file: join(ROOT, 'web', 'src', 'api', 'operator-api.gen.ts'),
  },
} as const;

const HEADER =
  '// Generated from the OpenAPI document by tools/web/api-types.ts (openapi-typescript): do not edit.\n';

/** The TypeScript that openapi-typescript writes for `document`. */
export function renderApiTypes(document: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'api-types-'));
  try {
    const input = join(dir, 'openapi.json');
    const output = join(dir, 'api.ts');
    writeFileSync(input, JSON.stringify(document));
    // A child process: openapi-typescript is an ES module, which jest's module system cannot load.
    const cli = join(dirname(require.resolve('openapi-typescript/package.json')), 'bin', 'cli.js');
    const result = spawnSync(
      process.execPath,
      // An input field with a default may be left out: it is not required.
      [cli, input, '--output', output, '--default-non-nullable=false'],
      {
        encoding: 'utf8',
      },
    );
    if (result.status !== 0) {
      throw new Error(`openapi-typescript failed: ${result.stderr || result.stdout}`);
    }
    return HEADER + readFileSync(output, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fetches both documents from a running service and writes the type files. */
async function main(): Promise<void> {
  const base = process.argv[2] ?? 'http://localhost:3000';
  for (const { document, file } of Object.values(API_TYPE_FILES)) {
    const response = await fetch(new URL(document, base));
    if (!response.ok) throw new Error(`${document}: HTTP ${response.status}`);
    writeFileSync(file, renderApiTypes(await response.json()));
    console.log(`wrote ${file}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
