import { stopUnclaimedServices } from './service-process';

// A service process still starting when its file ends (a beforeAll that timed out) would
// outlive the run, holding a port and database connections: stop it with the file.
afterAll(() => {
  const stopped = stopUnclaimedServices();
  if (stopped > 0) {
    process.stderr.write(`[e2e] stopped ${stopped} service process(es) that never became ready\n`);
  }
});
