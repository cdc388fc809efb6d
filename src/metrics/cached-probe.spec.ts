import { CachedProbe } from './cached-probe';

/** A probe whose answers the test hands out one by one. */
function controlledProbe() {
  const calls: Array<{ previous: number | undefined; answer: (value: number) => void }> = [];
  const probe = (previous: number | undefined) =>
    new Promise<number | undefined>((resolve) => calls.push({ previous, answer: resolve }));
  return { calls, probe };
}

describe(CachedProbe.name, () => {
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    now = 0;
  });

  it('should ask once per maxAgeMs and answer the cached value in between', async () => {
    let asked = 0;
    const cache = new CachedProbe(
      () => Promise.resolve(++asked),
      { maxAgeMs: 5_000, waitMs: 100 },
      clock,
    );
    await expect(cache.read()).resolves.toBe(1);
    now = 4_999;
    await expect(cache.read()).resolves.toBe(1);
    now = 5_000;
    await expect(cache.read()).resolves.toBe(2);
    expect(asked).toBe(2);
  });

  it('should run one probe at a time however many readers come', async () => {
    const { calls, probe } = controlledProbe();
    const cache = new CachedProbe(probe, { maxAgeMs: 0, waitMs: 60_000 }, clock);
    const readers = [cache.read(), cache.read(), cache.read()];
    expect(calls).toHaveLength(1);
    calls[0].answer(7);
    await expect(Promise.all(readers)).resolves.toEqual([7, 7, 7]);
  });

  it('should answer the last value once waitMs has passed without a fresh one', async () => {
    const { calls, probe } = controlledProbe();
    const cache = new CachedProbe(probe, { maxAgeMs: 0, waitMs: 20 }, clock);
    const first = cache.read();
    calls[0].answer(1);
    await expect(first).resolves.toBe(1);
    // The second probe hangs: the reader gets the last answer after 20 ms, not the hang.
    const started = Date.now();
    await expect(cache.read()).resolves.toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
    // While it still hangs, no other probe starts.
    await expect(cache.read()).resolves.toBe(1);
    expect(calls).toHaveLength(2);
    calls[1].answer(2);
    await expect(cache.read()).resolves.toBe(2);
  });

  it('should hand the probe its previous answer, and keep it when the probe rejects', async () => {
    const previous: Array<number | undefined> = [];
    let fail = false;
    const cache = new CachedProbe(
      (last: number | undefined) => {
        previous.push(last);
        return fail ? Promise.reject(new Error('down')) : Promise.resolve((last ?? 0) + 1);
      },
      { maxAgeMs: 0, waitMs: 100 },
      clock,
    );
    await expect(cache.read()).resolves.toBe(1);
    fail = true;
    await expect(cache.read()).resolves.toBe(1);
    fail = false;
    await expect(cache.read()).resolves.toBe(2);
    expect(previous).toEqual([undefined, 1, 1]);
  });

  it('should count maxAgeMs from the start of a probe that failed too', async () => {
    let asked = 0;
    const cache = new CachedProbe(
      () => {
        asked += 1;
        return Promise.reject(new Error('down'));
      },
      { maxAgeMs: 5_000, waitMs: 100 },
      clock,
    );
    await expect(cache.read()).resolves.toBeUndefined();
    now = 1_000;
    await expect(cache.read()).resolves.toBeUndefined();
    expect(asked).toBe(1);
  });
});
