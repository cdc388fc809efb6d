import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { inFixedTime } from './fixed-time';

describe(inFixedTime.name, () => {
  const timed = async (work: Promise<unknown>, late = jest.fn()) => {
    const started = performance.now();
    const result = await inFixedTime(60, work, late).then(
      () => 'ok',
      (error: unknown) => `failed: ${(error as Error).message}`,
    );
    return { result, ms: performance.now() - started, late };
  };

  it('should hold a quick answer until the set time', async () => {
    const { result, ms } = await timed(Promise.resolve());
    expect(result).toBe('ok');
    expect(ms).toBeGreaterThanOrEqual(59);
  });

  it('should fail a request whose work failed in time, at the set time too', async () => {
    const { result, ms } = await timed(Promise.reject(new Error('database down')));
    expect(result).toBe('failed: database down');
    expect(ms).toBeGreaterThanOrEqual(59);
  });

  it('should answer at the set time while slow work goes on, reporting its late failure', async () => {
    const { result, late } = await timed(
      sleep(150).then(() => Promise.reject(new Error('smtp timeout'))),
    );
    expect(result).toBe('ok');
    expect(late).not.toHaveBeenCalled();
    await sleep(200);
    expect(late).toHaveBeenCalledWith(new Error('smtp timeout'));
  });
});
