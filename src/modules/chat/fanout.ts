/**
 * How one conversation event reaches this instance's sockets (the delivery
 * the conversation actor calls, one event at a time, in order).
 *
 * Sockets on a conversation's topic (connection.ts) get the event through one
 * native `publish` per instance, the broker's payload as it came (serialised
 * once). When the sender of a message is a socket here, it publishes, which
 * skips the sender itself: its copy was its reply. Typing frames carry
 * `user_id`, and clients skip their own. Sockets off the topic (setting up,
 * replaying) get frames one by one. Presence goes one by one too (it is rare):
 * it skips its own user and reaches a socket once across shared conversations.
 *
 * A publish reports no per-socket result, so followers' send buffers are
 * checked after it (at most every CHECK_MS per conversation) and a slow
 * reader is closed with a reason; Bun's own backpressure limit, set above
 * ours, closes rather than drops in between (app.ts).
 */
import { topicOf, type Connection } from "./connection";

type Parsed = { type: string; user_id?: string; message?: { id: string; seq: number } };

/** The Bun server's publish (bound when the first socket upgrades). */
export type Publisher = { publish(topic: string, data: string): number };

const MAX_OWN = 10_000;
const CHECK_MS = 25;

export class NativeFanOut {
  private server: Publisher | null = null;
  /** Message ids sent by local sockets and not yet seen back from the broker. */
  private readonly own = new Map<string, Connection>();
  private readonly checkedAt = new WeakMap<object, number>();

  bind(server: Publisher) {
    this.server ??= server;
  }

  expectOwn(messageId: string, conn: Connection) {
    if (this.own.size >= MAX_OWN) this.own.delete(this.own.keys().next().value!);
    this.own.set(messageId, conn);
  }

  forgetOwn(messageId: string) {
    this.own.delete(messageId);
  }

  deliver(conversationId: string, payload: string, followers: ReadonlyMap<string, Connection>) {
    const event = JSON.parse(payload) as Parsed;
    if (event.type === "presence") return this.presence(payload, event.user_id, followers);
    const message = event.type === "message" ? event.message : undefined;
    let owner: Connection | undefined;
    if (message) {
      owner = this.own.get(message.id);
      if (owner) this.own.delete(message.id);
    }
    if (owner && owner.native(conversationId)) owner.publish(conversationId, payload);
    else this.server?.publish(topicOf(conversationId), payload);
    const now = performance.now();
    const check = now - (this.checkedAt.get(followers) ?? -Infinity) >= CHECK_MS;
    if (check) this.checkedAt.set(followers, now);
    for (const f of followers.values()) {
      if (f.native(conversationId)) {
        if (check) f.checkBackpressure();
      } else if (f === owner) continue;
      else if (message) f.sendMessage(conversationId, message.seq, payload);
      else if (event.type !== "typing" || f.userId !== event.user_id) f.sendRaw(payload);
    }
  }

  private presence(payload: string, userId: string | undefined, followers: ReadonlyMap<string, Connection>) {
    for (const f of followers.values()) if (f.userId !== userId) f.sendOnce(`presence:${userId}`, payload);
  }
}
