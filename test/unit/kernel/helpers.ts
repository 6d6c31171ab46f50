/** Small timing helpers for the kernel tests; everything is bounded. */
import type { EscalationError } from "../../../actors/kernel/index";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` is true; fails the test with `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** A promise plus its resolver, for holding a handler open. */
export function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** An onEscalate that records instead of exiting the test process. */
export function escalations() {
  const seen: EscalationError[] = [];
  return { seen, onEscalate: (error: EscalationError) => void seen.push(error) };
}
