/**
 * The retry pace of the actors' own loops (claim loops, the persister): the
 * kernel's restart backoff (exponential with jitter), 100 ms doubling to 5 s.
 * One policy, so a Redis or PostgreSQL outage is retried the same way
 * everywhere; `intensity` is unused here (loops retry forever).
 */
import { backoffDelay, type RestartPolicy } from "./kernel";

export const LOOP_BACKOFF: RestartPolicy = { baseMs: 100, maxMs: 5_000, jitter: 0.5, intensity: 0, periodMs: 60_000 };

/** The wait before retry number `failures` (1-based). */
export const loopDelay = (failures: number) => backoffDelay(LOOP_BACKOFF, failures);

/** Sleeps `ms`, or less when `signal` aborts first (a stopping actor does not wait out its backoff). */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
