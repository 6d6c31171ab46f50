/**
 * Supervisor: OTP-style supervision (one_for_one or rest_for_one) with OTP
 * restart kinds.
 *
 * Guarantees:
 * - Children start one after another in spec order (dynamic ones when added)
 *   and stop one after another in reverse order. A restarted child keeps its
 *   place in that order.
 * - When a child exits, its kind decides: permanent restarts always,
 *   transient only after a crash, temporary never. A child that is not
 *   restarted is removed. A start that fails counts as a crash.
 * - `strategy` decides which other children a restart takes along.
 *   "one_for_one" (default): none. "rest_for_one": every child after the
 *   failed one in start order is stopped (reverse order) before the backoff,
 *   then the failed child and those later ones start again in order; temporary
 *   later children are removed instead. Their stops are not restarts: they do
 *   not count against the intensity or their own `restarts`, and do not
 *   trigger restarts of their own. A pending restart of a later child is
 *   folded into the sequence. A child that is not restarted leaves the later
 *   ones alone. See rest-for-one.ts.
 * - Restarts wait an exponential, jittered backoff (see restart.ts). The
 *   replacement is built by `create()` right away, so messages sent through
 *   `ref(name)` during the backoff queue in its mailbox instead of failing.
 *   `create()` must only construct; resources belong in `start()`.
 * - More than `intensity` restarts within `periodMs` (all children together)
 *   makes the supervisor give up: it stops its remaining children (reverse
 *   order) and exits with a crash (`EscalationError`). Its parent treats that
 *   as a crashed child. A supervisor nobody watches is the root: it calls
 *   `onEscalate` (default: log the failing child, `process.exit(1)`).
 * - Exits of children the supervisor is stopping itself are not restarts.
 * - Snapshots show "restarting" for every child waiting to be (re)started.
 */
import { ActorStoppedError, EscalationError, describeError } from "./errors";
import { kernelLog } from "./log";
import { STRATEGIES, restartRestForOne, type RestForOneHost, type SupervisionStrategy } from "./rest-for-one";
import { backoffDelay, recordInWindow, resolvePolicy, type RestartPolicy } from "./restart";
import {
  isActorRef,
  type ActorRef,
  type Child,
  type ChildKind,
  type Exit,
  type ExitListener,
  type LifecycleState,
  type Snapshot,
} from "./types";
import { ExitWatchers } from "./watchers";

export interface ChildSpec {
  name: string;
  kind: ChildKind;
  /** Builds a fresh, unstarted child. Called again for every restart. */
  create: () => Child;
}

export interface SupervisorOptions {
  name: string;
  children?: ChildSpec[];
  restart?: Partial<RestartPolicy>;
  /** Which children a restart takes along (OTP meaning). Default "one_for_one": only the failed one. */
  strategy?: SupervisionStrategy;
  /** Root only: what to do when this supervisor gives up. Default: log one line and exit(1). */
  onEscalate?: (error: EscalationError) => void;
}

/** Internal bookkeeping for one named child; visible to subclasses (Registry). */
export interface ChildSlot {
  spec: ChildSpec;
  instance?: Child;
  restarts: number;
  /** This child's recent restart times, for its backoff exponent. */
  recent: number[];
  timer?: ReturnType<typeof setTimeout>;
  /** Being stopped or replaced on purpose: its exit is not a restart. */
  removing: boolean;
  /** rest_for_one: token of the restart sequence this slot waits in (shown as "restarting"). */
  pending?: object;
  /** rest_for_one: the stop of this slot's replaced instance, while it runs. */
  stopping?: Promise<void>;
}

export function exitProcessOnEscalate(error: EscalationError): void {
  // console, not the pluggable logger: an async logger may not flush before exit.
  console.error(`[kernel] ${error.message}; exiting with status 1. Last error: ${describeError(error.cause)}`);
  process.exit(1);
}

export class Supervisor implements Child {
  readonly name: string;
  protected readonly policy: RestartPolicy;
  protected readonly slots = new Map<string, ChildSlot>();
  private readonly onEscalate: (error: EscalationError) => void;
  private readonly strategy: SupervisionStrategy;
  /** Instances launch() has taken; rest_for_one stops only these and keeps fresh replacements. */
  private readonly launched = new WeakSet<Child>();
  private currentState: LifecycleState = "starting";
  private readonly restartTimes: number[] = [];
  private readonly exitedChildren = new WeakSet<Child>();
  private readonly retiring = new Set<Promise<void>>();
  private readonly watchers: ExitWatchers;
  private startResult?: Promise<void>;
  private termination?: Promise<void>;
  private exit?: Exit;
  private lastError?: string;

  constructor(options: SupervisorOptions) {
    this.name = options.name;
    this.watchers = new ExitWatchers(options.name);
    this.policy = resolvePolicy(options.restart);
    this.onEscalate = options.onEscalate ?? exitProcessOnEscalate;
    this.strategy = options.strategy ?? "one_for_one";
    if (!STRATEGIES.includes(this.strategy)) throw new RangeError(`unknown supervisor strategy "${this.strategy}"`);
    for (const spec of options.children ?? []) this.addSlot(spec);
  }

  get state(): LifecycleState {
    return this.currentState;
  }

  protected get live(): boolean {
    return this.currentState === "starting" || this.currentState === "running";
  }

  start(): Promise<void> {
    if (this.startResult) return this.startResult;
    if (this.termination) return Promise.reject(new ActorStoppedError(this.name, this.exit));
    this.startResult = this.startInitialChildren();
    return this.startResult;
  }

  stop(reason = "stop"): Promise<void> {
    return this.terminate({ kind: "normal", reason });
  }

  /** Fails this supervisor as if a child had exceeded the intensity. */
  crash(error: unknown): void {
    if (this.termination) return;
    const failure = error instanceof EscalationError ? error : new EscalationError(this.name, this.name, "crashed", error);
    void this.terminate({ kind: "crash", error: failure });
  }

  watch(listener: ExitListener): void {
    this.watchers.add(listener);
  }

  /** Adds a child; started now if the supervisor has been started. Resolves after its first start attempt. */
  async startChild(spec: ChildSpec): Promise<Child | undefined> {
    if (!this.live) throw new ActorStoppedError(this.name, this.exit);
    if (this.slots.has(spec.name)) throw new Error(`supervisor "${this.name}" already has a child "${spec.name}"`);
    const slot = this.addSlot(spec);
    if (this.startResult) await this.launch(slot);
    return slot.instance;
  }

  /** Stops and removes a child without restarting it. False if there is no such child. */
  async stopChild(name: string, reason = "stop"): Promise<boolean> {
    const slot = this.slots.get(name);
    if (!slot) return false;
    slot.removing = true;
    await this.stopSlot(slot, reason);
    if (this.slots.get(name) === slot) this.slots.delete(name);
    return true;
  }

  /** The current instance of a child; changes on every restart, so prefer `ref`. */
  child<C extends Child = Child>(name: string): C | undefined {
    return this.slots.get(name)?.instance as C | undefined;
  }

  /** A stable handle that always talks to the child's current instance. */
  ref<M>(name: string): ActorRef<M> {
    const target = (): ActorRef<M> => {
      const instance = this.slots.get(name)?.instance;
      if (!isActorRef(instance)) throw new ActorStoppedError(name);
      return instance as ActorRef<M>;
    };
    return {
      name,
      tell: (message: M) => target().tell(message),
      ask: <R = unknown>(message: M, timeoutMs: number): Promise<R> => {
        try {
          return target().ask<R>(message, timeoutMs);
        } catch (error) {
          return Promise.reject(error);
        }
      },
    };
  }

  snapshot(): Snapshot {
    const snapshot: Snapshot = {
      name: this.name,
      kind: "root",
      state: this.currentState,
      restarts: 0,
      mailboxDepth: 0,
      children: [...this.slots.values()].map((slot) => this.slotSnapshot(slot)),
    };
    if (this.lastError !== undefined) snapshot.lastError = this.lastError;
    return snapshot;
  }

  protected addSlot(spec: ChildSpec): ChildSlot {
    const slot: ChildSlot = { spec, restarts: 0, recent: [], removing: false };
    this.slots.set(spec.name, slot);
    return slot;
  }

  protected instantiate(slot: ChildSlot): Child {
    const child = slot.spec.create();
    slot.instance = child;
    child.watch((exit) => this.childExited(slot, child, exit));
    return child;
  }

  /** Starts the slot's child (building it if needed), after `after` settles. */
  protected async launch(slot: ChildSlot, after?: Promise<unknown>): Promise<void> {
    let child: Child;
    try {
      child = slot.instance ?? this.instantiate(slot);
    } catch (error) {
      if (this.isCurrent(slot) && this.live) this.afterExit(slot, { kind: "crash", error });
      return;
    }
    this.launched.add(child);
    if (after) await after;
    try {
      await child.start();
    } catch (error) {
      // Children built on Actor already reported this exit; this covers those that do not.
      this.childExited(slot, child, { kind: "crash", error });
    }
  }

  /** Takes a slot out of the tree now; its child finishes stopping in the background (awaited by stop). */
  protected retire(slot: ChildSlot, reason: string): Promise<void> {
    slot.removing = true;
    if (this.isCurrent(slot)) this.slots.delete(slot.spec.name);
    return this.track(this.stopSlot(slot, reason));
  }

  /** Reverse start order, one at a time. Registry overrides this to stop in parallel. */
  protected async stopChildren(reason: string): Promise<void> {
    for (const slot of [...this.slots.values()].reverse()) await this.stopSlot(slot, reason);
  }

  /** Adds a background stop to what `stop()` waits for. */
  private track(done: Promise<void>): Promise<void> {
    this.retiring.add(done);
    void done.then(() => this.retiring.delete(done));
    return done;
  }

  protected async stopSlot(slot: ChildSlot, reason: string): Promise<void> {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    try {
      await slot.instance?.stop(reason);
    } catch (error) {
      kernelLog(`[kernel] ${this.name}/${slot.spec.name}: stop failed`, error);
    }
  }

  private isCurrent(slot: ChildSlot): boolean {
    return this.slots.get(slot.spec.name) === slot;
  }

  private async startInitialChildren(): Promise<void> {
    for (const slot of [...this.slots.values()]) {
      if (!this.live) return;
      if (this.isCurrent(slot) && !slot.instance && !slot.timer && !slot.pending) await this.launch(slot);
    }
    if (this.currentState === "starting") this.currentState = "running";
  }

  private childExited(slot: ChildSlot, child: Child, exit: Exit): void {
    if (this.exitedChildren.has(child)) return;
    this.exitedChildren.add(child);
    if (!this.isCurrent(slot) || slot.instance !== child || slot.removing || !this.live) return;
    // rest_for_one: a later child a restart sequence is about to stop anyway; not a restart.
    if (slot.pending && this.launched.has(child)) return;
    this.afterExit(slot, exit);
  }

  private afterExit(slot: ChildSlot, exit: Exit): void {
    const { name, kind } = slot.spec;
    const restart = kind === "permanent" || (kind === "transient" && exit.kind === "crash");
    const what = exit.kind === "crash" ? "crashed" : `exited (${exit.reason})`;
    const error = exit.kind === "crash" ? exit.error : undefined;
    if (!restart) {
      if (exit.kind === "crash") kernelLog(`[kernel] ${this.name}/${name} ${what}; ${kind}, not restarted`, error);
      this.slots.delete(name);
      return;
    }
    const now = Date.now();
    if (recordInWindow(this.restartTimes, now, this.policy.periodMs) > this.policy.intensity) {
      const reason = `more than ${this.policy.intensity} restarts in ${this.policy.periodMs} ms`;
      void this.terminate({ kind: "crash", error: new EscalationError(this.name, name, reason, error ?? what) });
      return;
    }
    const delay = backoffDelay(this.policy, recordInWindow(slot.recent, now, this.policy.periodMs));
    slot.restarts++;
    slot.instance = undefined;
    try {
      this.instantiate(slot);
    } catch {
      // launch() builds it again when the timer fires, and counts that failure
    }
    kernelLog(`[kernel] ${this.name}/${name} ${what}; restart #${slot.restarts} in ${delay} ms`, error);
    if (this.strategy === "rest_for_one") {
      void restartRestForOne(this.restForOneHost(), slot, delay);
      return;
    }
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (this.live && this.isCurrent(slot)) void this.launch(slot);
    }, delay);
    slot.timer.unref?.();
  }

  private terminate(exit: Exit): Promise<void> {
    if (this.termination) return this.termination;
    this.exit = exit;
    this.currentState = "stopping";
    for (const slot of this.slots.values()) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = undefined;
      slot.pending = undefined; // abandons any rest_for_one sequence (they also check `live`)
    }
    this.termination = this.runTermination(exit);
    return this.termination;
  }

  private async runTermination(exit: Exit): Promise<void> {
    await this.stopChildren(exit.kind === "normal" ? exit.reason : "supervisor failed");
    await Promise.all(this.retiring);
    if (exit.kind === "crash") this.lastError = describeError(exit.error);
    this.currentState = exit.kind === "crash" ? "failed" : "stopped";
    const heard = this.watchers.report(exit);
    if (exit.kind !== "crash" || heard > 0) return;
    try {
      this.onEscalate(exit.error as EscalationError);
    } catch (error) {
      kernelLog(`[kernel] ${this.name}: onEscalate failed`, error);
    }
  }

  /** Closures over this supervisor's internals, so rest-for-one.ts needs nothing widened. */
  private restForOneHost(): RestForOneHost {
    return {
      name: this.name,
      live: () => this.live,
      order: () => [...this.slots.values()],
      isCurrent: (slot) => this.isCurrent(slot),
      started: (child) => this.launched.has(child),
      instantiate: (slot) => this.instantiate(slot),
      launch: (slot) => this.launch(slot),
      retire: (slot, reason) => this.retire(slot, reason),
      stopReplaced: (slot, child, reason) =>
        this.track(
          child.stop(reason).catch((error) => kernelLog(`[kernel] ${this.name}/${slot.spec.name}: stop failed`, error)),
        ),
    };
  }

  private slotSnapshot(slot: ChildSlot): Snapshot {
    const own = slot.instance?.snapshot();
    const state = slot.timer || slot.pending || !own ? "restarting" : own.state;
    return { ...(own ?? { mailboxDepth: 0 }), name: slot.spec.name, kind: slot.spec.kind, restarts: slot.restarts, state };
  }
}
