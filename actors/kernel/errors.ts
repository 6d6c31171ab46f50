/**
 * Errors the kernel raises. Every one is a `KernelError`, so callers can tell a
 * kernel refusal (full mailbox, stopped actor, timeout) from an error thrown by
 * a handler, which the kernel passes through unwrapped.
 */

export class KernelError extends Error {
  override name = "KernelError";
}

/** The mailbox refused a message (policy "reject"), or evicted it (policy "drop-oldest"). */
export class MailboxFullError extends KernelError {
  override name = "MailboxFullError";
  constructor(
    readonly actor: string,
    readonly capacity: number,
    detail = "is full",
  ) {
    super(`mailbox of "${actor}" ${detail} (capacity ${capacity})`);
  }
}

/** An ask got no reply within its timeout. The handler may still be running. */
export class AskTimeoutError extends KernelError {
  override name = "AskTimeoutError";
  constructor(
    readonly actor: string,
    readonly timeoutMs: number,
  ) {
    super(`ask to "${actor}" timed out after ${timeoutMs} ms`);
  }
}

/**
 * The actor no longer accepts or will never process the message: it is
 * stopping, stopped, failed, or (behind a supervisor ref) restarting without an
 * instance. `cause` is the exit that ended it, when there is one.
 */
export class ActorStoppedError extends KernelError {
  override name = "ActorStoppedError";
  constructor(
    readonly actor: string,
    cause?: unknown,
  ) {
    super(`actor "${actor}" is not accepting messages`, { cause });
  }
}

/**
 * A supervisor gave up: `child` exceeded the restart intensity (or the
 * supervisor itself was crashed, then `child` is the supervisor's own name).
 * `cause` is the last failure of that child.
 */
export class EscalationError extends KernelError {
  override name = "EscalationError";
  constructor(
    readonly supervisor: string,
    readonly child: string,
    reason: string,
    cause?: unknown,
  ) {
    super(`supervisor "${supervisor}" gave up on child "${child}": ${reason}`, { cause });
  }
}

/** One line for logs and snapshots; never a stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
