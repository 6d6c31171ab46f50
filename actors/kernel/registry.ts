/**
 * Registry: actors created on demand by key (e.g. one per conversation id),
 * supervised like any other children, and passivated when idle.
 *
 * Guarantees:
 * - `get`, `tell` and `ask` start the key's actor if there is none, so a
 *   message is never refused for lack of an actor. The actor is returned at
 *   once; messages queue until its `onStart` has finished.
 * - At most one live actor per key. A message that arrives while the key's
 *   actor is stopping (idle passivation, stopKey, crash clean-up) goes to a
 *   fresh actor, which starts only after the old one has fully stopped (so
 *   e.g. an unsubscribe never lands after the new subscribe). Nothing queued
 *   is lost to passivation: an actor only passivates with an empty mailbox.
 * - Idle: an actor with nothing queued or running for `idleMs` stops with
 *   reason "idle" (unless its `canPassivate()` says no) and is removed.
 * - Crashes: transient actors (the default) are restarted with the backoff and
 *   intensity of any supervisor; temporary ones are just removed. Messages sent
 *   during the backoff queue in the replacement.
 * - Hold keys, not actor instances: an instance is gone after passivation.
 * - On stop, all actors stop in parallel (keyed children have no order).
 */
import type { Actor } from "./actor";
import { ActorStoppedError } from "./errors";
import type { RestartPolicy } from "./restart";
import { Supervisor, type ChildSlot, type ChildSpec } from "./supervisor";
import type { ActorRef, Child } from "./types";
import type { EscalationError } from "./errors";

export type MessageOf<A> = A extends ActorRef<infer M> ? M : never;

export interface RegistryOptions<K, A extends Actor<any>> {
  name: string;
  /** Builds the actor for a key; construct only, acquire resources in onStart. */
  create: (key: K) => A;
  /** Passivate after this long without messages; undefined = never. */
  idleMs?: number;
  /** Default "transient". Permanent makes no sense for actors that passivate. */
  kind?: "transient" | "temporary";
  /** Child name for a key (must be unique per key). Default String(key). */
  keyName?: (key: K) => string;
  restart?: Partial<RestartPolicy>;
  onEscalate?: (error: EscalationError) => void;
}

export class Registry<K, A extends Actor<any>> extends Supervisor {
  private readonly factory: (key: K) => A;
  private readonly idleMs: number | undefined;
  private readonly kind: "transient" | "temporary";
  private readonly keyName: (key: K) => string;

  constructor(options: RegistryOptions<K, A>) {
    super({ name: options.name, restart: options.restart, onEscalate: options.onEscalate });
    const kind = options.kind ?? "transient";
    if (kind !== "transient" && kind !== "temporary") throw new RangeError(`registry kind must be transient or temporary`);
    this.factory = options.create;
    this.idleMs = options.idleMs;
    this.kind = kind;
    this.keyName = options.keyName ?? String;
  }

  /** The key's live actor, created and started if absent. */
  get(key: K): A {
    return this.route(key);
  }

  /** The key's live actor if there is one; never creates. */
  peek(key: K): A | undefined {
    const actor = this.slots.get(this.keyName(key))?.instance as A | undefined;
    return actor?.accepting ? actor : undefined;
  }

  has(key: K): boolean {
    return this.peek(key) !== undefined;
  }

  /** Number of keys with an actor (live, restarting or stopping). */
  get size(): number {
    return this.slots.size;
  }

  tell(key: K, message: MessageOf<A>): void {
    this.route(key).tell(message);
  }

  ask<R = unknown>(key: K, message: MessageOf<A>, timeoutMs: number): Promise<R> {
    try {
      return this.route(key).ask<R>(message, timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Stops the key's actor now (a later message creates a new one). */
  stopKey(key: K, reason = "stop"): Promise<boolean> {
    return this.stopChild(this.keyName(key), reason);
  }

  /** Children come from keys; use get/tell/ask. */
  override startChild(_spec: ChildSpec): Promise<Child | undefined> {
    return Promise.reject(new Error(`registry "${this.name}" creates its children from keys; use get/tell/ask`));
  }

  protected override async stopChildren(reason: string): Promise<void> {
    await Promise.all([...this.slots.values()].map((slot) => this.stopSlot(slot, reason)));
  }

  private route(key: K): A {
    if (!this.live) throw new ActorStoppedError(this.name);
    const name = this.keyName(key);
    const slot = this.slots.get(name);
    const current = slot?.instance as A | undefined;
    if (current?.accepting) return current;
    // Restarting, but its factory threw: wait for the supervisor's retry.
    if (slot?.timer && !current) throw new ActorStoppedError(name);
    return this.spawn(key, name, slot);
  }

  private spawn(key: K, name: string, previous: ChildSlot | undefined): A {
    const previousStopped = previous ? this.retire(previous, "replaced") : undefined;
    const slot = this.addSlot({ name, kind: this.kind, create: () => this.build(key) });
    let actor: A;
    try {
      actor = this.instantiate(slot) as A;
    } catch (error) {
      this.slots.delete(name);
      throw error;
    }
    void this.launch(slot, previousStopped);
    return actor;
  }

  private build(key: K): A {
    const actor = this.factory(key);
    if (this.idleMs !== undefined) actor.setIdleTimeout(this.idleMs);
    return actor;
  }
}
