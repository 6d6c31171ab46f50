/** In-process broker (one node); see the port in ../types.ts. It never disconnects, so onReconnect never fires. */
import type { Broker, Unsubscribe } from "../types";

type Handler = (payload: string) => void;

export class MemoryBroker implements Broker {
  private readonly handlers = new Map<string, Set<Handler>>();

  async publish(channel: string, payload: string): Promise<void> {
    this.publishNow(channel, payload);
  }

  /**
   * Delivers on a later microtask, like a network hop would: a handler never
   * runs inside the publisher's call stack. Handlers present at publish time
   * get it even if they unsubscribe meanwhile (with Redis it was in flight).
   */
  publishNow(channel: string, payload: string): void {
    const set = this.handlers.get(channel);
    if (!set) return;
    for (const handler of [...set]) {
      queueMicrotask(() => {
        try {
          handler(payload);
        } catch {
          // One faulty handler must not starve the others of the event.
        }
      });
    }
  }

  async subscribe(channel: string, handler: Handler): Promise<Unsubscribe> {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    const entry: Handler = (payload) => handler(payload);
    set.add(entry);
    return async () => {
      const current = this.handlers.get(channel);
      current?.delete(entry);
      if (current && current.size === 0) this.handlers.delete(channel);
    };
  }

  channels(): string[] {
    return [...this.handlers.keys()];
  }

  onReconnect(_cb: () => void): () => void {
    return () => {};
  }
}
