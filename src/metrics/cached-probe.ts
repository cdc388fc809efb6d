/**
 * The last answer of a probe too costly to run on every scrape (it queries the database): asked
 * again at most once per `maxAgeMs`, never twice at once, and a reader waits `waitMs` at most for
 * a fresh answer before taking the last one. So a slow or hung probe holds one connection, not
 * one per scrape, and never holds a scrape past `waitMs`.
 *
 * The probe gets its previous answer, to say what is still known when it fails (it must not
 * throw; a rejection keeps the previous answer).
 */
export class CachedProbe<T> {
  private answer?: T;
  private askedAt = -Infinity;
  private running?: Promise<void>;

  constructor(
    private readonly probe: (previous: T | undefined) => Promise<T | undefined>,
    private readonly options: { maxAgeMs: number; waitMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  async read(): Promise<T | undefined> {
    if (!this.running && this.now() - this.askedAt >= this.options.maxAgeMs) {
      this.askedAt = this.now();
      this.running = this.probe(this.answer)
        .then((answer) => {
          this.answer = answer;
        })
        .catch(() => undefined)
        .finally(() => {
          this.running = undefined;
        });
    }
    if (this.running) await within(this.running, this.options.waitMs);
    return this.answer;
  }
}

/** Waits for `work`, but `ms` at most (the timer does not hold the process open). */
function within(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms).unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
