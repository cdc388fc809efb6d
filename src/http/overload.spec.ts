import { EventEmitter } from 'node:events';
import { AppConfig } from '../config/app-config';
import { PoolStats } from '../database/pool-stats';
import { OverloadMonitor } from './overload';

function monitor(overload: Partial<AppConfig['overload']>, waiting = 0): OverloadMonitor {
  const config = {
    overload: {
      eventLoopLagMs: 0,
      poolWaiting: 0,
      maxInFlight: 0,
      retryAfterSeconds: 1,
      ...overload,
    },
  } as AppConfig;
  const pool = { app: () => ({ waiting }) } as unknown as PoolStats;
  return new OverloadMonitor(config, pool);
}

describe('OverloadMonitor', () => {
  it('should count a request in flight until its response closes, answered or abandoned', () => {
    const overload = monitor({ maxInFlight: 2 });
    const first = new EventEmitter();
    const second = new EventEmitter();
    overload.admit(first);
    expect(overload.reason()).toBeUndefined();
    overload.admit(second);
    expect(overload.requestsInFlight).toBe(2);
    expect(overload.reason()).toBe('in_flight');
    first.emit('close');
    // A second close of the same response does not count twice.
    first.emit('close');
    expect(overload.requestsInFlight).toBe(1);
    expect(overload.reason()).toBeUndefined();
  });

  it('should never shed for requests in flight when the bound is 0', () => {
    const overload = monitor({ maxInFlight: 0 });
    for (let i = 0; i < 1000; i += 1) overload.admit(new EventEmitter());
    expect(overload.reason()).toBeUndefined();
  });

  it('should shed for the pool queue at its bound', () => {
    expect(monitor({ poolWaiting: 4 }, 3).reason()).toBeUndefined();
    expect(monitor({ poolWaiting: 4 }, 4).reason()).toBe('pool');
  });
});
