/**
 * Shapes shared by actors, supervisors and registries. `Child` is the whole
 * contract a supervisor relies on, so anything that implements it (an Actor, a
 * Supervisor, a Registry, or a hand-written wrapper) can sit in the tree.
 */

export type LifecycleState = "starting" | "running" | "stopping" | "stopped" | "restarting" | "failed";

/** OTP meanings: permanent always restarts, transient only after a crash, temporary never. */
export type ChildKind = "permanent" | "transient" | "temporary";

/** How a child ended. "normal" covers stop(), passivation and self-stop; "crash" everything else. */
export type Exit = { kind: "normal"; reason: string } | { kind: "crash"; error: unknown };

export type ExitListener = (exit: Exit) => void;

/**
 * A point-in-time view for /ready and /metrics. A node reports kind "root" and
 * restarts 0 about itself; its supervisor overwrites both from the child spec
 * and its own restart count.
 */
export interface Snapshot {
  name: string;
  kind: ChildKind | "root";
  state: LifecycleState;
  restarts: number;
  mailboxDepth: number;
  /** Messages discarded unprocessed: evicted by drop-oldest or abandoned at stop. */
  dropped?: number;
  lastError?: string;
  children?: Snapshot[];
}

/** What senders hold. `ask` always takes a timeout. */
export interface ActorRef<M> {
  readonly name: string;
  tell(message: M): void;
  ask<R = unknown>(message: M, timeoutMs: number): Promise<R>;
}

/**
 * What a supervisor needs from a child. Contract:
 * - `start()` acquires resources; a rejection counts as a crash.
 * - `stop()` is idempotent (same promise every call) and always resolves.
 * - every exit, including a failed start, is reported once to each `watch` listener.
 */
export interface Child {
  readonly name: string;
  start(): Promise<void>;
  stop(reason?: string): Promise<void>;
  snapshot(): Snapshot;
  watch(listener: ExitListener): void;
}

export function isActorRef(value: unknown): value is ActorRef<unknown> {
  const candidate = value as Partial<ActorRef<unknown>> | undefined;
  return typeof candidate?.tell === "function" && typeof candidate.ask === "function";
}
