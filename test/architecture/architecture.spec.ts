import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { parser } from 'typescript-eslint';
import { actualEdges, documentedEdges } from './module-graph';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the rules live in a .cjs file shared with eslint.config.mjs
const boundaries = require('../../eslint.boundaries.cjs') as ESLint.Options['overrideConfig'];

const ROOT = resolve(__dirname, '..', '..');

/** Lints `code` as if it were the file `path`, with the boundary rules only. */
async function lint(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [
      { files: ['**/*.ts'], languageOptions: { parser } },
      ...(boundaries as object[]),
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, path) });
  return result.messages.map((message) => `${message.ruleId}: ${message.message}`);
}

describe('import boundaries (eslint.boundaries.cjs)', () => {
  it('should refuse a repository or data source injected outside database/ and tenancy/', async () => {
    const injected = `import { InjectRepository } from '@nestjs/typeorm';\nexport const x = InjectRepository;`;
    const dataSource = `import { DataSource, In } from 'typeorm';\nexport const x = [DataSource, In];`;
    expect(await lint('src/notes/violation.ts', injected)).toEqual([
      expect.stringMatching(/^no-restricted-imports: '@nestjs\/typeorm' import is restricted/),
    ]);
    expect(await lint('src/tenants/violation.ts', dataSource)).toEqual([
      expect.stringMatching(/^no-restricted-imports: 'DataSource' import from 'typeorm'/),
    ]);
    // Operators, In, LessThan and entity decorators stay available; the layers themselves may.
    expect(
      await lint('src/notes/fine.ts', `import { In } from 'typeorm';\nexport const x = In;`),
    ).toEqual([]);
    expect(await lint('src/database/fine.ts', dataSource)).toEqual([]);
    expect(await lint('src/tenancy/fine.ts', injected)).toEqual([]);
  });

  it('should refuse feature modules in tenancy/, database/, http/, config/ and redis/', async () => {
    const code = `import { AuthService } from '../auth/auth.service';\nexport const x = AuthService;`;
    for (const layer of ['tenancy', 'database', 'http', 'config', 'redis']) {
      expect(await lint(`src/${layer}/violation.ts`, code)).toEqual([
        expect.stringMatching(
          /^no-restricted-imports: '..\/auth\/auth.service' import is restricted/,
        ),
      ]);
    }
    expect(await lint('src/notes/fine.ts', code)).toEqual([]);
  });

  it('should be part of the project ESLint configuration', () => {
    // ESLint loads eslint.config.mjs with import(), which jest's module system cannot: ask the CLI.
    const printConfig = (file: string): string => {
      const run = spawnSync(
        process.execPath,
        [resolve(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--print-config', file],
        { cwd: ROOT, encoding: 'utf8' },
      );
      if (run.status !== 0) throw new Error(run.stderr);
      return JSON.stringify(
        (JSON.parse(run.stdout) as { rules: Record<string, unknown> }).rules[
          'no-restricted-imports'
        ],
      );
    };
    expect(printConfig('src/notes/notes.service.ts')).toContain('@nestjs/typeorm');
    expect(printConfig('src/http/configure-app.ts')).toContain('citus-admin');
  });
});

describe('docs/architecture.md', () => {
  it('should draw exactly the imports between modules that src/ has', () => {
    expect(documentedEdges()).toEqual(actualEdges());
  });

  it('should have no cycle between modules', () => {
    const next = new Map<string, string[]>();
    for (const edge of actualEdges()) {
      const [from, to] = edge.split(' --> ');
      next.set(from, [...(next.get(from) ?? []), to]);
    }
    const cycles: string[] = [];
    const visit = (module: string, path: string[]): void => {
      if (path.includes(module)) {
        cycles.push([...path.slice(path.indexOf(module)), module].join(' -> '));
        return;
      }
      for (const to of next.get(module) ?? []) visit(to, [...path, module]);
    };
    for (const module of next.keys()) visit(module, []);
    expect(cycles).toEqual([]);
  });
});
