import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Answers `work` after exactly `ms` (as the timer allows), whether it finished sooner, failed, or
 * is still running: routes whose answer must not tell whether an email has an account (a reset,
 * a new confirmation mail) do different work in each case, and the time of the answer would
 * tell what the body does not. Work that fails in time fails the request; work still running
 * at `ms` (a slow mail server) goes on, and what it fails with then goes to `late`.
 */
export async function inFixedTime(
  ms: number,
  work: Promise<unknown>,
  late: (error: unknown) => void,
): Promise<void> {
  const outcome = work.then(
    () => ({ failed: false as const }),
    (error: unknown) => ({ failed: true as const, error }),
  );
  const [inTime] = await Promise.all([
    Promise.race([outcome, sleep(ms).then(() => undefined)]),
    sleep(ms),
  ]);
  if (inTime === undefined) {
    void outcome.then((result) => {
      if (result.failed) late(result.error);
    });
    return;
  }
  if (inTime.failed) throw inTime.error;
}
