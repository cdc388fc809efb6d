import fc from 'fast-check';
import { citusMode, TEST_JWT, useTestApp } from '../harness/e2e';
import {
  anyCaseArb,
  caseArb,
  CLUSTER_WRITE_OPERATIONS,
  operationWeight,
  SACRIFICIAL_OPERATIONS,
} from './cases';
import { HttpClient } from './http-client';
import { asOpenApiDocument, Operation, operationsOf, schemaContradictions } from './openapi-model';
import { describe as describeOutcome, ErrorLog, Runner } from './runner';
import { World } from './world';

/**
 * Property-based fuzzing from the service's own OpenAPI documents: every documented operation
 * gets requests built from its schemas, valid and mutated, from every kind of caller, and every
 * answer must be free of 5xx, in the documented error shape, without tenant B in it, and
 * uncacheable when it carries a credential. See README "Fuzzing" for the knobs.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
/** Per database mode within about a minute here: Citus answers the cluster overviews slowly. */
const RUNS = Number(process.env.FUZZ_RUNS ?? (citusMode ? 600 : 2_500));
const PATH = process.env.FUZZ_PATH;
/** Survey: go on after a failure and list every distinct one at the end (for triage). */
const SURVEY = process.env.FUZZ_SURVEY === '1';
/** Print the answers per operation after the run. */
const STATS = process.env.FUZZ_STATS === '1';
const CLUSTER_WRITES = process.env.FUZZ_CLUSTER_WRITES === '1' || !citusMode;
/** Generous: a slow answer is not what this spec is about (the long run takes hours). */
const TIMEOUT_MS = 10 * 60_000 + RUNS * 400;

const reproduce = (seed: number, path?: string) =>
  `FUZZ_SEED=${seed}${path ? ` FUZZ_PATH='${path}'` : ''} FUZZ_RUNS=${RUNS}${
    citusMode ? '' : ' CITUS=off'
  } npx jest test/fuzz --selectProjects=e2e -t 'generated requests'`;

function write(text: string): void {
  process.stdout.write(`[fuzz] ${text}\n`);
}

describe('OpenAPI fuzzing (e2e)', () => {
  const ctx = useTestApp();
  const log = new ErrorLog();
  let client: HttpClient;
  let upkeep: HttpClient;
  let operations: Operation[];
  let world: World;
  let runner: Runner;

  beforeAll(async () => {
    ctx.app.useLogger(log);
    await ctx.app.listen(0, '127.0.0.1');
    const port = Number(new URL(await ctx.app.getUrl()).port);
    client = new HttpClient('127.0.0.1', port);
    upkeep = new HttpClient('127.0.0.1', port);
    operations = [];
    for (const [path, name] of [
      ['/docs-json', 'tenant'],
      ['/admin-docs-json', 'operator'],
    ]) {
      const response = await client.send({ method: 'GET', path, headers: [] });
      expect(response.status).toBe(200);
      operations.push(...operationsOf(asOpenApiDocument(response.json, path), name));
    }
    const mailDir = process.env.E2E_MAIL_DIR;
    if (!mailDir) throw new Error('E2E_MAIL_DIR is missing: run e2e specs through jest');
    world = new World(upkeep, ctx.db, mailDir);
    const seeding = Date.now();
    await world.seed();
    write(`seeded in ${((Date.now() - seeding) / 1000).toFixed(1)} s`);
    runner = newRunner();
  }, 300_000);

  afterAll(() => {
    client?.close();
    upkeep?.close();
  });

  const newRunner = () => new Runner(world, client, operations, log, CLUSTER_WRITES, TEST_JWT);

  it('should read every operation of both documents, including the routes the policies name', () => {
    const keys = operations.map((operation) => operation.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(
      operations.filter((operation) => operation.document === 'tenant').length,
    ).toBeGreaterThan(10);
    expect(
      operations.filter((operation) => operation.document === 'operator').length,
    ).toBeGreaterThan(5);
    // A renamed route would silently drop out of the disposable-member or cluster-write policy.
    expect(keys).toEqual(
      expect.arrayContaining([...SACRIFICIAL_OPERATIONS, ...CLUSTER_WRITE_OPERATIONS]),
    );
  });

  it('should document request schemas whose keywords fit their types', () => {
    const contradictions = operations.flatMap((operation) => [
      ...operation.parameters.flatMap((parameter) =>
        schemaContradictions(
          parameter.schema,
          `${operation.key} ${parameter.in} ${parameter.name}`,
        ),
      ),
      ...(operation.body
        ? schemaContradictions(operation.body.schema, `${operation.key} body`)
        : []),
    ]);
    expect(contradictions).toEqual([]);
  });

  it('should generate valid and mutated cases for every documented operation', () => {
    const samples = fc.sample(anyCaseArb(operations), { seed: SEED, numRuns: 4_000 });
    const covered = new Map<string, { valid: number; mutated: number }>();
    for (const sample of samples) {
      const counts = covered.get(sample.operation) ?? { valid: 0, mutated: 0 };
      if (sample.mutated.length === 0) counts.valid += 1;
      else counts.mutated += 1;
      covered.set(sample.operation, counts);
    }
    expect([...covered.keys()].sort()).toEqual(operations.map((operation) => operation.key).sort());
    for (const [key, counts] of covered) {
      expect({ key, valid: counts.valid > 0, mutated: counts.mutated > 0 }).toEqual({
        key,
        valid: true,
        mutated: true,
      });
    }
  });

  it("should build valid requests that pass the service's validation, for every operation", async () => {
    const problems = new Map<string, { count: number; example: string }>();
    world.collectMailedTokens();
    for (const operation of operations) {
      // Two requests where there is input to get right, one where there is none.
      const numRuns = operationWeight(operation) > 1 ? 2 : 1;
      const cases = fc.sample(caseArb(operation, { validOnly: true }), { seed: SEED, numRuns });
      for (const fuzzCase of cases) {
        const outcome = await runner.run(fuzzCase);
        const answer = outcome.response.json as { code?: unknown; message?: unknown } | undefined;
        const refused =
          answer?.code === 'VALIDATION_FAILED' || answer?.code === 'UNSUPPORTED_MEDIA_TYPE';
        if (!refused && outcome.violations.length === 0) continue;
        const what = refused
          ? `${String(answer.code)}: ${String(answer.message)}`
          : outcome.violations.join('; ');
        const key = `${operation.key} — ${what}`;
        const entry = problems.get(key);
        if (entry) entry.count += 1;
        else problems.set(key, { count: 1, example: describeOutcome(fuzzCase, outcome) });
      }
      await world.heal();
    }
    if (problems.size > 0) {
      throw new Error(
        `Requests built valid from the documents were refused or failed:\n\n${[...problems]
          .map(([key, { count, example }]) => `${count}× ${key}\n${example}`)
          .join('\n\n')}`,
      );
    }
  }, 300_000);

  it(
    `should answer ${RUNS} generated requests without a 5xx, in the documented error shape, without tenant B, no-store on credentials`,
    async () => {
      // Its own runner: the operations counted below are the ones this run reached.
      runner = newRunner();
      const started = Date.now();
      const recent: string[] = [];
      const victimChanges: string[] = [];
      const survey = new Map<string, { count: number; example: string }>();
      let count = 0;
      let valid = 0;

      const property = fc.asyncProperty(anyCaseArb(operations), async (fuzzCase) => {
        count += 1;
        if (count % 50 === 0) {
          await world.heal(count % 500 === 0);
          world.collectMailedTokens();
        }
        if (count % 250 === 0) {
          const change = await world.victimChange();
          if (change && victimChanges.length === 0) {
            victimChanges.push(
              `tenant B changed within these cases:\n${recent.join('\n')}\n${change}`,
            );
          }
        }
        const outcome = await runner.run(fuzzCase);
        if (fuzzCase.mutated.length === 0) valid += 1;
        recent.push(
          `${outcome.request.method} ${outcome.request.path.slice(0, 120)} as ${outcome.actorLabel}: ${outcome.response.status}`,
        );
        if (recent.length > 250) recent.shift();
        if (outcome.violations.length === 0) return;
        if (!SURVEY) throw new Error(describeOutcome(fuzzCase, outcome));
        const cause =
          outcome.serverErrors[0]?.replace(/\d+/g, 'N').slice(0, 160) ??
          outcome.violations.join('; ');
        const signature = `${outcome.response.status} ${fuzzCase.operation} — ${cause}`;
        const entry = survey.get(signature);
        if (entry) entry.count += 1;
        else survey.set(signature, { count: 1, example: describeOutcome(fuzzCase, outcome) });
      });

      const details = await fc.check(property, {
        seed: SEED,
        numRuns: RUNS,
        ...(PATH ? { path: PATH } : {}),
      });
      const seconds = Math.round((Date.now() - started) / 1000);
      write(
        `${count} requests (${valid} entirely valid) in ${seconds} s, seed ${SEED}, ` +
          `${runner.exercised.size}/${operations.length} operations; disposable members: ` +
          `${world.stats.disposablesMade}, re-logins: ${world.stats.relogins}, tenant A re-seeded: ` +
          `${world.stats.attackerReseeds}${world.stats.lastReseedCause ? ` (${world.stats.lastReseedCause})` : ''}`,
      );
      // Which answers each operation got: shows whether valid requests get through (2xx).
      if (STATS || SURVEY) {
        write(
          [...runner.statuses.entries()]
            .map(([key, statuses]) => {
              const total = [...statuses.values()].reduce((sum, n) => sum + n, 0);
              const average = Math.round((runner.milliseconds.get(key) ?? 0) / total);
              const counts = [...statuses.entries()]
                .sort()
                .map(([status, n]) => `${status}×${n}`)
                .join(' ');
              return `${key}: ${counts} (${average} ms on average)`;
            })
            .join('\n[fuzz] '),
        );
      }

      if (details.failed) {
        const message =
          details.errorInstance instanceof Error
            ? details.errorInstance.message
            : String(details.errorInstance);
        throw new Error(
          `Fuzzing found a failing request after ${details.numRuns} case(s), shrunk ${details.numShrinks} time(s).\n` +
            `Reproduce: ${reproduce(details.seed, details.counterexamplePath ?? undefined)}\n\n` +
            `${message}\n\ncase: ${fc.stringify(details.counterexample?.[0])}`,
        );
      }
      if (survey.size > 0) {
        const lines = [...survey.entries()]
          .sort((a, b) => b[1].count - a[1].count)
          .map(([signature, { count: n, example }]) => `${n}× ${signature}\n${example}`);
        throw new Error(
          `${survey.size} distinct failure(s) (seed ${SEED}):\n\n${lines.join('\n\n')}`,
        );
      }
      expect(victimChanges).toEqual([]);
      // A replay of one case (FUZZ_PATH) reaches one operation.
      if (!PATH) {
        expect([...runner.exercised].sort()).toEqual(
          operations.map((operation) => operation.key).sort(),
        );
      }
    },
    TIMEOUT_MS,
  );

  it('should leave tenant B exactly as seeded', async () => {
    await expect(world.victimChange()).resolves.toBeUndefined();
  });
});
