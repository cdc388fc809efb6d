import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { howToGetCitus } from '../../tools/db/local-cluster';
import { chooseTestDatabase, dockerEngineAnswers } from './database-choice';
import globalTeardown from './global-teardown';
import { MailSink, startMailSink } from '../../tools/mail/sink';
import { redisServerBinary, startTestRedis, TestRedis } from './redis-server';
import { freePort, log, startTestDatabase, TestDatabase } from './test-database';
import { chromiumBinary, ensureWebBuild } from './web-build';

declare global {
  var __TEST_DATABASE__: TestDatabase | undefined;
  var __MAIL_SINK__: MailSink | undefined;
  var __TEST_REDIS__: TestRedis | undefined;
}

/**
 * Redis for the shared rate-limit specs (see redis-server.ts for where it comes from). Without
 * one they are skipped and counted; an explicit TEST_REDIS_URL that does not answer is an error.
 */
async function startRedis(dockerAvailable: boolean): Promise<void> {
  let redis: TestRedis | undefined;
  try {
    redis = await startTestRedis(process.env, dockerAvailable);
  } catch (error) {
    if (process.env.TEST_REDIS_URL?.trim()) throw error;
    log(`Redis could not be started: ${(error as Error).message}`);
  }
  globalThis.__TEST_REDIS__ = redis;
  if (redis) {
    process.env.E2E_REDIS_URL = redis.url;
    log(`redis: ${redis.source}`);
  } else {
    delete process.env.E2E_REDIS_URL;
    log(
      'NO REDIS (apt-get install redis-server, or TEST_REDIS_URL): [redis] tests will be SKIPPED',
    );
  }
  // The outage specs start (and stop, and freeze) a redis-server of their own.
  const binary = redisServerBinary(process.env);
  if (binary) process.env.E2E_REDIS_SERVER_BIN = binary;
  else delete process.env.E2E_REDIS_SERVER_BIN;
}

/** The console the app serves is built from the current sources; the browser specs need Chromium. */
function prepareWebConsole(): void {
  ensureWebBuild(log);
  const chromium = chromiumBinary(process.env);
  if (chromium) {
    process.env.E2E_CHROMIUM_BIN = chromium;
    log(`chromium: ${chromium}`);
  } else {
    delete process.env.E2E_CHROMIUM_BIN;
    log('NO CHROMIUM (apt-get install chromium, or CHROMIUM_BIN): [browser] tests will be SKIPPED');
  }
}

/** Starts (or connects to) the e2e database once; the workers read it from the environment. */
export default async function globalSetup(): Promise<void> {
  prepareWebConsole();
  const docker = await dockerEngineAnswers(process.env);
  // First: a TEST_REDIS_URL that does not answer stops the run before any database starts.
  await startRedis(docker);
  const choice = chooseTestDatabase(process.env, docker);
  const database = await startTestDatabase(choice).catch(async (error: unknown) => {
    await globalThis.__TEST_REDIS__?.stop();
    throw error;
  });
  globalThis.__TEST_DATABASE__ = database;
  process.env.E2E_DATABASE_URL = database.url;
  process.env.E2E_APP_DATABASE_URL = database.appUrl;
  process.env.E2E_CITUS = database.citus ? '1' : '0';
  process.env.E2E_CITUS_WORKERS = String(database.workers);
  // Verification and reset mails land in files the specs read (test/harness/mail.ts).
  const sink = await startMailSink({
    port: await freePort(),
    dir: mkdtempSync(join(tmpdir(), 'notes-mail-')),
  });
  globalThis.__MAIL_SINK__ = sink;
  process.env.E2E_SMTP_URL = sink.url;
  process.env.E2E_MAIL_DIR = sink.dir;
  if (database.citus) {
    log(`Citus mode: ${database.workers} worker(s); app connections reject multi-shard queries`);
  } else {
    log('PLAIN POSTGRESQL MODE: the citus extension is not in use; [citus] tests will be SKIPPED');
  }
  await requireWhatWasPromised(database.citus);
}

/**
 * TEST_REQUIRE=citus,redis,browser,compose (set by .ci/run, which installs them): stop before any
 * test runs when one of them is missing, instead of skipping its tests.
 */
async function requireWhatWasPromised(citus: boolean): Promise<void> {
  const present: Record<string, boolean> = {
    citus,
    redis: Boolean(globalThis.__TEST_REDIS__),
    browser: Boolean(process.env.E2E_CHROMIUM_BIN),
    compose: spawnSync('docker-compose', ['version']).status === 0,
  };
  const unknown = requiredTags().filter((tag) => !(tag in present));
  const missing = requiredTags().filter((tag) => present[tag] === false);
  if (unknown.length === 0 && missing.length === 0) return;
  await globalTeardown();
  if (unknown.length > 0) {
    throw new Error(`TEST_REQUIRE names unknown tags: ${unknown.join(', ')}`);
  }
  const hints: Record<string, string> = {
    citus:
      process.env.CITUS?.toLowerCase() === 'off'
        ? 'the run was started with CITUS=off'
        : howToGetCitus(resolve(__dirname, '..', '..')),
    redis: 'apt-get install redis-server, or set TEST_REDIS_URL',
    browser: 'apt-get install chromium, or set CHROMIUM_BIN',
    compose: 'apt-get install docker-compose',
  };
  throw new Error(
    `TEST_REQUIRE names ${missing.join(', ')}, which this machine lacks: ` +
      missing.map((tag) => `${tag}: ${hints[tag]}`).join('; '),
  );
}

/** The tags TEST_REQUIRE names (comma or space separated); summary-reporter.cjs reads it too. */
function requiredTags(): string[] {
  return (process.env.TEST_REQUIRE ?? '')
    .split(/[\s,]+/)
    .map((tag) => tag.trim().toLowerCase())
    .filter(Boolean);
}
