/**
 * What both Redis brokers (broker.ts, sharded-broker.ts) keep on this side:
 * the handlers per channel, which is the truth their server-side
 * subscriptions are reconciled with; a per-channel chain so that two
 * reconciliations of one channel never interleave; and the callbacks told
 * when events may have been missed. Only where a channel is subscribed
 * differs between the two.
 */
import type { Unsubscribe } from "../types";

type Handler = (payload: string) => void;

export class HandlerTable {
  readonly #handlers = new Map<string, Set<Handler>>();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #reconnectCallbacks = new Set<() => void>();

  /** Adds a handler and waits for `reconcile(channel)`; the returned unsubscribe works once and reconciles again. */
  async add(channel: string, handler: Handler, reconcile: (channel: string) => Promise<void>): Promise<Unsubscribe> {
    let set = this.#handlers.get(channel);
    if (!set) this.#handlers.set(channel, (set = new Set()));
    // A wrapper per call, so the same function subscribed twice unsubscribes once each.
    const entry: Handler = (payload) => handler(payload);
    set.add(entry);
    await reconcile(channel);
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      const current = this.#handlers.get(channel);
      current?.delete(entry);
      if (current && current.size === 0) this.#handlers.delete(channel);
      await reconcile(channel);
    };
  }

  wanted(channel: string): boolean {
    return this.#handlers.has(channel);
  }

  channels(): string[] {
    return [...this.#handlers.keys()];
  }

  deliver(channel: string, payload: string): void {
    for (const handler of this.#handlers.get(channel) ?? []) {
      try {
        handler(payload);
      } catch {
        // One faulty handler must not starve the others of the event.
      }
    }
  }

  /** Runs `step` after every earlier step of the same channel has finished. */
  serial(channel: string, step: () => Promise<void>): Promise<void> {
    const next = (this.#chains.get(channel) ?? Promise.resolve()).then(step);
    this.#chains.set(channel, next);
    void next.then(() => {
      if (this.#chains.get(channel) === next) this.#chains.delete(channel);
    });
    return next;
  }

  onReconnect(cb: () => void): () => void {
    this.#reconnectCallbacks.add(cb);
    return () => this.#reconnectCallbacks.delete(cb);
  }

  /** Tells every onReconnect callback (events may have been missed); one that throws does not stop the rest. */
  reconnected(): void {
    for (const cb of this.#reconnectCallbacks) {
      try {
        cb();
      } catch {
        // Same isolation as message handlers.
      }
    }
  }
}
