import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Who a frame belongs to: an npm package, Node itself, the service's own code, or V8. */
export function ownerOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (match) return match[1];
  if (url.startsWith('node:'))
    return `node:${url.slice(5).split('/')[0] === 'internal' ? url.slice(14).split('/')[0] : url.slice(5)}`;
  const own = /\/(src|dist\/src)\/(.+)$/.exec(url);
  if (own) return `service:${own[2].split('/')[0]}`;
  return url;
}

/**
 * Self time of the newest .cpuprofile in `dir`, by owner and by function, as shares of the
 * time the process was not idle: where a request's CPU goes.
 */
export function summarizeProfile(dir: string, top = 20): string {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files.length === 0) return `no .cpuprofile in ${dir}`;
  const profile = JSON.parse(readFileSync(files[0], 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  // Builtins (JSON.parse, RegExp, ...) have no url: charge them to the nearest caller that has one.
  const attributed = (node: ProfileNode): ProfileNode => {
    let current: ProfileNode | undefined = node;
    while (current && !current.callFrame.url && !current.callFrame.functionName.startsWith('(')) {
      const up = parent.get(current.id);
      current = up === undefined ? undefined : byId.get(up);
    }
    return current ?? node;
  };
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );

  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, micros] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += micros;
      continue;
    }
    busy += micros;
    const payer = attributed(node);
    const owner = ownerOf(payer.callFrame.url, payer.callFrame.functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + micros);
    const fn = `${functionName || '(anonymous)'} ${owner}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + micros);
  }
  const share = (micros: number) => `${((100 * micros) / busy).toFixed(1).padStart(5)}%`;
  const rank = (map: Map<string, number>) =>
    [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `profile ${files[0]}`,
    `busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s (${((100 * busy) / (busy + idle)).toFixed(0)}% busy)`,
    '',
    'self time by owner:',
    ...rank(owners).map(([owner, micros]) => `  ${share(micros)}  ${owner}`),
    '',
    'self time by function:',
    ...rank(functions).map(([fn, micros]) => `  ${share(micros)}  ${fn}`),
  ].join('\n');
}

if (require.main === module) {
  console.log(summarizeProfile(process.argv[2] ?? join(__dirname, 'results', 'run', 'profiles')));
}
