import { chooseTestDatabase, dockerEngineAnswers } from './database-choice';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailSink, startMailSink } from '../../tools/mail/sink';
import { freePort, log, startTestDatabase, TestDatabase } from './test-database';

declare global {
  var __TEST_DATABASE__: TestDatabase | undefined;
  var __MAIL_SINK__: MailSink | undefined;
}

/** Starts (or connects to) the e2e database once; the workers read it from the environment. */
export default async function globalSetup(): Promise<void> {
  const choice = chooseTestDatabase(process.env, await dockerEngineAnswers(process.env));
  const database = await startTestDatabase(choice);
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
    log(
      'PLAIN POSTGRESQL MODE: the citus extension is not installed; [citus] tests will be SKIPPED',
    );
  }
}
