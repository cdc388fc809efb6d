import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__TEST_DATABASE__?.stop();
  await globalThis.__TEST_REDIS__?.stop();
  const sink = globalThis.__MAIL_SINK__;
  if (sink) {
    await sink.stop();
    rmSync(sink.dir, { recursive: true, force: true });
  }
}
