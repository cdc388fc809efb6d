import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

function tablesCreatedByMigrations(): string[] {
  const dir = join(ROOT, 'migrations');
  const tables = new Set<string>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(dir, file), 'utf8');
    for (const match of source.matchAll(
      /CREATE TABLE (?:IF NOT EXISTS )?"?([a-z_][a-z0-9_]*)"?/gi,
    )) {
      tables.add(match[1]);
    }
  }
  return [...tables].sort();
}

function erDiagramEntities(): string[] {
  const schema = readFileSync(join(ROOT, 'docs', 'schema.md'), 'utf8');
  const diagram = /```mermaid\s+erDiagram([\s\S]*?)```/.exec(schema)?.[1] ?? '';
  return [...diagram.matchAll(/^\s{2}([a-z_][a-z0-9_]*) \{/gm)].map((match) => match[1]).sort();
}

describe('Diagrams (docs/)', () => {
  it('should find the tables the migrations create', () => {
    expect(tablesCreatedByMigrations()).toEqual(
      expect.arrayContaining(['notes', 'tenants', 'users']),
    );
  });

  it('should show every table the migrations create in the schema diagram, and no other', () => {
    expect(erDiagramEntities()).toEqual(tablesCreatedByMigrations());
  });

  it('should keep the three diagrams as Mermaid text', () => {
    for (const name of ['system.md', 'sharding.md', 'schema.md']) {
      expect(readFileSync(join(ROOT, 'docs', name), 'utf8')).toMatch(
        /```mermaid\n(flowchart|erDiagram)/,
      );
    }
  });
});
