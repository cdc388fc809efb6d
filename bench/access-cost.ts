import { httpLoad } from './load';
import { Server } from './processes';
import {
  log,
  loginAll,
  machine,
  median,
  seedWorld,
  settings,
  smoke,
  startService,
  stickyTenants,
  World,
  writeResult,
} from './world';

/**
 * `npm run bench -- --access-cost`: what checking each token's session and role against the
 * database costs on `GET /notes` (32 connections, each speaking for one of 128 tenants). Three
 * builds of the same service, alternating: ACCESS_RECHECK_MS=60000 (a lookup per session a minute:
 * next to nothing, the baseline), the default 1000, and 0 (a lookup on every request: the worst
 * case, as if every request came from a session of its own).
 */
const VARIANTS = [
  ['baseline', '60000'],
  ['default', '1000'],
  ['everyRequest', '0'],
] as const;

export async function runAccessCost(world: World): Promise<void> {
  const tenants = Number(process.env.BENCH_TENANTS ?? (smoke ? 4 : 128));
  const notes = Number(process.env.BENCH_NOTES ?? (smoke ? 20 : 200));
  log(`seeding ${tenants} tenants x ${notes} notes`);
  world.tenants = await seedWorld(world.db, tenants, notes);
  const servers = new Map<string, Server>();
  try {
    for (const [name, recheck] of VARIANTS) {
      servers.set(
        name,
        await startService(world, `service-${name}`, { ACCESS_RECHECK_MS: recheck }),
      );
    }
    world.tokens = await loginAll([...servers.values()][0], world.tenants);
    const rps = new Map<string, number[]>(VARIANTS.map(([name]) => [name, []]));
    const measure = (server: Server, seconds: number) => {
      const tenantOf = stickyTenants(world);
      return httpLoad(server.url, { connections: settings.connections, seconds }, (client) => ({
        method: 'GET',
        path: '/api/v1/notes?limit=20',
        headers: {
          authorization: `Bearer ${world.tokens.get(tenantOf(client).id) ?? ''}`,
        },
      }));
    };
    for (const server of servers.values()) await measure(server, settings.warmupSeconds || 1);
    for (let round = 0; round < settings.rounds; round += 1) {
      for (const [name] of VARIANTS) {
        const sample = await measure(servers.get(name) as Server, settings.seconds);
        if (sample.non2xx) throw new Error(`${name}: ${JSON.stringify(sample.failures)}`);
        rps.get(name)?.push(sample.rps);
      }
      log(`round ${round + 1}/${settings.rounds} done`);
    }
    const of = (name: string) => median(rps.get(name) ?? []);
    const ratio = (name: string) => Math.round((of(name) / of('baseline')) * 1000) / 1000;
    const result = {
      machine: machine(world.db),
      connections: settings.connections,
      tenants,
      rps: Object.fromEntries([...rps].map(([name, values]) => [name, values.map(Math.round)])),
      defaultRatio: ratio('default'),
      everyRequestRatio: ratio('everyRequest'),
      met: ratio('default') >= 0.95,
    };
    log(
      `GET /notes: baseline ${Math.round(of('baseline'))}/s; ACCESS_RECHECK_MS=1000 ${Math.round(of('default'))}/s = ${result.defaultRatio}x ` +
        `(target >= 0.95) ${result.met ? 'MET' : 'NOT MET'}; a lookup on every request ${Math.round(of('everyRequest'))}/s = ${result.everyRequestRatio}x`,
    );
    log(`result: ${writeResult('access-cost', result)}`);
  } finally {
    for (const server of servers.values()) await server.stop();
  }
}
