import type { RateLimitRule } from "./types";

/** Validates a token-bucket rule (shared by both engines) and returns the cost of one take. */
export function checkRule(rule: RateLimitRule): number {
  const cost = rule.cost ?? 1;
  if (!(rule.capacity > 0) || !(rule.refillPerSec > 0) || !(cost > 0)) {
    throw new RangeError(`rate limit rule needs positive capacity, refillPerSec and cost: ${JSON.stringify(rule)}`);
  }
  if (cost > rule.capacity) {
    throw new RangeError(`rate limit cost ${cost} exceeds capacity ${rule.capacity}; it could never be allowed`);
  }
  return cost;
}
