/**
 * The actor kernel: mailboxes drained one message at a time, one-for-one
 * supervision with backoff and intensity, keyed registries with passivation.
 * Pure TypeScript: no Elysia, Redis or SQL. See each file's header for its
 * guarantees.
 */
export { Actor, type ActorOptions } from "./actor.ts";
export { actorOf, FunctionActor, type Behavior } from "./behavior.ts";
export {
  ActorStoppedError,
  AskTimeoutError,
  EscalationError,
  KernelError,
  MailboxFullError,
  describeError,
} from "./errors.ts";
export { kernelLog, setKernelLogger, type KernelLogger } from "./log.ts";
export { DEFAULT_MAILBOX_CAPACITY, Mailbox, type MailboxOptions, type OverflowPolicy } from "./mailbox.ts";
export { Registry, type MessageOf, type RegistryOptions } from "./registry.ts";
export { DEFAULT_RESTART_POLICY, backoffDelay, type RestartPolicy } from "./restart.ts";
export {
  Supervisor,
  exitProcessOnEscalate,
  type ChildSlot,
  type ChildSpec,
  type SupervisorOptions,
} from "./supervisor.ts";
export type { ActorRef, Child, ChildKind, Exit, ExitListener, LifecycleState, Snapshot } from "./types.ts";
export { isActorRef } from "./types.ts";
