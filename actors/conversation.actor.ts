/**
 * One conversation on this instance: owns the `chat:{id}` subscription while
 * at least one local socket follows the conversation, and fans its events out
 * to those sockets. The subscription is released as soon as the last follower
 * leaves, and the actor passivates after CONVERSATION_IDLE_MS.
 *
 * The follower set belongs to the socket hub (it outlives a crashed actor);
 * the actor only reads it, so a restart resubscribes for the same sockets.
 */
import { Actor } from "./kernel/index.ts";
import type { Broker, Unsubscribe } from "../src/engine/types";
import { chatChannel } from "../src/engine/redis/keys";

/** What the actor needs from a socket. */
export interface Follower {
  readonly id: string;
  readonly userId: string;
  /** Sends a serialized frame; the socket handles backpressure itself. */
  sendRaw(frame: string): void;
  /** Sends a serialized message frame; the socket may hold it back or drop it while it replays (resume). */
  sendMessage(conversationId: string, seq: number, frame: string): void;
  /** Sends a frame unless the last one sent under `key` was the same (an event that reached it on several channels). */
  sendOnce(key: string, frame: string): void;
  /** True (once) when the message with this id is this socket's own send, answered directly. */
  consumeOwn(messageId: string): boolean;
}

export type ConversationMsg =
  | { type: "follow"; follower: Follower }
  | { type: "unfollow"; followerId: string }
  /** A serialized event from the broker (or from the local Redis-down path). */
  | { type: "event"; payload: string };

type Parsed = { type: string; user_id?: string; message?: { id: string; seq: number } };

export class ConversationActor extends Actor<ConversationMsg> {
  private unsubscribe: Unsubscribe | null = null;

  constructor(
    readonly conversationId: string,
    private readonly followers: Map<string, Follower>,
    private readonly broker: Broker,
    idleMs: number,
    /** Lets the owner of the follower sets drop this conversation's empty set. */
    private readonly onEmpty?: () => void,
  ) {
    super({ name: `conversation:${conversationId}`, idleMs, mailbox: { capacity: 10_000, overflow: "reject" } });
  }

  protected override async onStart() {
    if (this.followers.size > 0) await this.subscribe();
  }

  protected override async onStop() {
    await this.release();
    this.onEmpty?.();
  }

  protected override canPassivate(): boolean {
    return this.followers.size === 0;
  }

  protected async handle(msg: ConversationMsg) {
    switch (msg.type) {
      case "follow":
        this.followers.set(msg.follower.id, msg.follower);
        if (!this.unsubscribe) await this.subscribe();
        return;
      case "unfollow":
        this.followers.delete(msg.followerId);
        if (this.followers.size === 0) await this.release();
        return;
      case "event":
        return this.fanOut(msg.payload);
    }
  }

  private fanOut(payload: string) {
    if (this.followers.size === 0) return;
    const event = JSON.parse(payload) as Parsed;
    const message = event.type === "message" ? event.message : undefined;
    for (const f of this.followers.values()) {
      // Typing and presence go to everyone but their user; a sender already got its own message as the reply.
      if ((event.type === "typing" || event.type === "presence") && f.userId === event.user_id) continue;
      if (message && f.consumeOwn(message.id)) continue;
      if (message) f.sendMessage(this.conversationId, message.seq, payload);
      // Presence is published to every conversation of its user: a socket sharing several hears it once.
      else if (event.type === "presence") f.sendOnce(`presence:${event.user_id}`, payload);
      else f.sendRaw(payload);
    }
  }

  private async subscribe() {
    // tell() from the broker callback: events are handled in order, one at a time, by this actor.
    this.unsubscribe = await this.broker.subscribe(chatChannel(this.conversationId), (payload) => {
      if (this.accepting) this.tell({ type: "event", payload });
    });
  }

  private async release() {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    if (unsubscribe) await unsubscribe();
  }
}

/**
 * Follower sets by conversation, kept outside the actors so a restarted actor
 * serves the same sockets. Empty sets are dropped when their actor stops.
 */
export function conversationActorFactory(broker: Broker, idleMs: number) {
  const sets = new Map<string, Map<string, Follower>>();
  return (conversationId: string) => {
    let set = sets.get(conversationId);
    if (!set) sets.set(conversationId, (set = new Map()));
    const mine = set;
    return new ConversationActor(conversationId, mine, broker, idleMs, () => {
      if (mine.size === 0 && sets.get(conversationId) === mine) sets.delete(conversationId);
    });
  };
}
