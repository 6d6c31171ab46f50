/**
 * The actor kernel: mailboxes drained one message at a time, one_for_one or
 * rest_for_one supervision with backoff and intensity, keyed registries with passivation.
 * Pure TypeScript: no Elysia, Redis or SQL. See each file's header for its
 * guarantees.
 */
export { Actor, type ActorOptions } from "./actor";
export { actorOf, FunctionActor, type Behavior } from "./behavior";
export {
  ActorStoppedError,
  AskTimeoutError,
  EscalationError,
  KernelError,
  MailboxFullError,
  describeError,
} from "./errors";
export { kernelLog, setKernelLogger, type KernelLogger } from "./log";
export { DEFAULT_MAILBOX_CAPACITY, Mailbox, type MailboxOptions, type OverflowPolicy } from "./mailbox";
export { Registry, type MessageOf, type RegistryOptions } from "./registry";
export { DEFAULT_RESTART_POLICY, backoffDelay, type RestartPolicy } from "./restart";
export type { SupervisionStrategy } from "./rest-for-one";
export {
  Supervisor,
  exitProcessOnEscalate,
  type ChildSlot,
  type ChildSpec,
  type SupervisorOptions,
} from "./supervisor";
export type { ActorRef, Child, ChildKind, Exit, ExitListener, LifecycleState, Snapshot } from "./types";
export { isActorRef } from "./types";
