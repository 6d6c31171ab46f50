/**
 * Restart arithmetic for supervisors: exponential backoff with jitter, and the
 * sliding window that counts restarts for the intensity limit. Pure functions
 * over timestamps, so the policy can be tested without timers.
 */

export interface RestartPolicy {
  /** Delay before the first restart in a window. */
  baseMs: number;
  /** Cap on the delay. */
  maxMs: number;
  /** Fraction (0..1) the delay may be shortened by at random; 0.5 = "equal jitter". */
  jitter: number;
  /** More than this many restarts within periodMs makes the supervisor give up and escalate. */
  intensity: number;
  periodMs: number;
  /** Random source in [0, 1); injectable for deterministic tests. */
  random?: () => number;
}

export const DEFAULT_RESTART_POLICY: Readonly<RestartPolicy> = {
  baseMs: 100,
  maxMs: 10_000,
  jitter: 0.5,
  intensity: 10,
  periodMs: 60_000,
};

export function resolvePolicy(partial: Partial<RestartPolicy> = {}): RestartPolicy {
  const policy = { ...DEFAULT_RESTART_POLICY, ...partial };
  const positive = (key: "baseMs" | "maxMs" | "periodMs") => {
    if (!(Number.isFinite(policy[key]) && policy[key] > 0)) {
      throw new RangeError(`restart ${key} must be a positive number, got ${policy[key]}`);
    }
  };
  positive("baseMs");
  positive("maxMs");
  positive("periodMs");
  if (policy.maxMs < policy.baseMs) throw new RangeError("restart maxMs must be >= baseMs");
  if (!(policy.jitter >= 0 && policy.jitter <= 1)) throw new RangeError("restart jitter must be within 0..1");
  if (!(Number.isInteger(policy.intensity) && policy.intensity >= 0)) {
    throw new RangeError("restart intensity must be a non-negative integer");
  }
  return policy;
}

/**
 * Delay before restart number `attempt` (1-based) of one child:
 * min(maxMs, baseMs * 2^(attempt-1)), shortened by up to `jitter` of itself.
 * With jitter <= 0.5 consecutive delays never decrease.
 */
export function backoffDelay(policy: RestartPolicy, attempt: number): number {
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const random = policy.random ?? Math.random;
  return Math.round(nominal * (1 - policy.jitter * random()));
}

/** Records `now` and returns how many records fall within the last periodMs. */
export function recordInWindow(times: number[], now: number, periodMs: number): number {
  while (times.length > 0 && (times[0] as number) <= now - periodMs) times.shift();
  times.push(now);
  return times.length;
}
