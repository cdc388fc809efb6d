// A module of its own, importing nothing: test/harness/setup-e2e.ts loads service-process.ts,
// which uses this, before a spec's jest.mock() calls apply; importing e2e.ts (and so the app)
// from there would load the real modules a spec means to mock.

/**
 * Shedding and the tenants' budgets guard production against load that a test would only make
 * flaky (a jest worker's event loop stalls while it compiles a file; specs send bursts of one
 * tenant's requests): off for test apps and service processes, on where test/overload and
 * test/tenant-budgets turn them on.
 */
export const LOAD_GUARDS_OFF = {
  SHED_EVENT_LOOP_LAG_MS: '0',
  SHED_POOL_WAITING: '0',
  SHED_MAX_IN_FLIGHT: '0',
  TENANT_RATE_LIMIT_PER_SECOND: '0',
  TENANT_CONCURRENCY: '0',
  READY_RATE_PER_ADDRESS: '0',
};
