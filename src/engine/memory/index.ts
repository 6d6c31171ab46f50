/** The memory engine: every port in this process, for a single node with nothing installed. */
import type { Engine } from "../types";
import { MemoryBroker } from "./broker";
import { MemoryChatStore } from "./chat";
import { ExpiringMap, MemoryPresence, MemoryRateLimiter, MemoryResultCache } from "./misc";
import { MemoryOutbox } from "./outbox";
import { MemoryDeadLetters } from "./dead-letters";
import { MemoryJobQueue } from "./queue";

export function createMemoryEngine(): Engine {
  const broker = new MemoryBroker();
  const outbox = new MemoryOutbox();
  const queues = new Map<string, MemoryJobQueue>();
  const resultStores = new Map<string, ExpiringMap<string>>();
  const resultsOf = (queue: string) => {
    let store = resultStores.get(queue);
    if (!store) resultStores.set(queue, (store = new ExpiringMap<string>()));
    return store;
  };
  let closing: Promise<void> | undefined;
  const rateLimiter = new MemoryRateLimiter();

  return {
    kind: "memory",
    chat: new MemoryChatStore(outbox, broker, rateLimiter),
    outbox,
    deadLetters: new MemoryDeadLetters(),
    broker,
    presence: new MemoryPresence(),
    results: new MemoryResultCache(resultsOf("problems")),
    rateLimiter,
    queue(name: string) {
      if (closing) throw new Error("engine is closed");
      let q = queues.get(name);
      if (!q) queues.set(name, (q = new MemoryJobQueue(name, resultsOf(name))));
      return q;
    },
    async ping() {},
    async info() {
      return {};
    },
    close() {
      closing ??= (async () => {
        outbox.close();
        for (const q of queues.values()) q.close();
      })();
      return closing;
    },
  };
}
