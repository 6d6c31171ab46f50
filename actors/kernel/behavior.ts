/**
 * The function-based way to define an actor: pass the handler and optional
 * hooks as plain functions instead of subclassing `Actor`. Same guarantees as
 * `Actor` (this is a thin subclass); `self` gives the handler `stop`, `crash`,
 * `tell` to itself and the abort `signal`.
 */
import { Actor, type ActorOptions } from "./actor";
import type { Exit } from "./types";

export interface Behavior<M> extends ActorOptions {
  handle(message: M, self: FunctionActor<M>): unknown;
  onStart?(self: FunctionActor<M>): void | Promise<void>;
  onStop?(exit: Exit, self: FunctionActor<M>): void | Promise<void>;
  canPassivate?(self: FunctionActor<M>): boolean;
}

export class FunctionActor<M> extends Actor<M> {
  constructor(private readonly behavior: Behavior<M>) {
    super(behavior);
  }

  override get signal(): AbortSignal {
    return super.signal;
  }

  protected handle(message: M): unknown {
    return this.behavior.handle(message, this);
  }

  protected override onStart(): void | Promise<void> {
    return this.behavior.onStart?.(this);
  }

  protected override onStop(exit: Exit): void | Promise<void> {
    return this.behavior.onStop?.(exit, this);
  }

  protected override canPassivate(): boolean {
    return this.behavior.canPassivate?.(this) ?? true;
  }
}

export function actorOf<M>(behavior: Behavior<M>): FunctionActor<M> {
  return new FunctionActor(behavior);
}
