import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** The module a file belongs to: its folder under src/, or `app` for main.ts and app.module.ts. */
function moduleOf(path: string): string {
  const parts = relative(SRC, path).split(sep);
  return parts.length === 1 ? 'app' : parts[0];
}

/** "a --> b" for every module a whose non-test code imports module b. */
export function actualEdges(): string[] {
  const edges = new Set<string>();
  for (const file of files(SRC).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/from\s+['"](\.[^'"]+)['"]/g)) {
      const target = resolve(dirname(file), match[1]);
      if (relative(SRC, target).startsWith('..')) continue;
      const [from, to] = [moduleOf(file), moduleOf(`${target}.ts`)];
      if (from !== to) edges.add(`${from} --> ${to}`);
    }
  }
  return [...edges].sort();
}

/** The edges drawn in docs/architecture.md's Mermaid graph. */
export function documentedEdges(): string[] {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const graph = /```mermaid\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  return [...graph.matchAll(/^\s*([\w-]+)\s*-->\s*([\w-]+)\s*$/gm)]
    .map(([, from, to]) => `${from} --> ${to}`)
    .sort();
}
