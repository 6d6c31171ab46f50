/**
 * One conversation on this instance: owns its channel subscription while at
 * least one local follower (a socket) is there, and hands its events, one at
 * a time and in arrival order, to the delivery the chat module provides. The
 * subscription is released as soon as the last follower leaves, and the actor
 * passivates after CONVERSATION_IDLE_MS.
 *
 * The follower set outlives a crashed actor (see conversationActorFactory),
 * so a restart resubscribes for the same sockets. What a follower is and how
 * an event reaches it (own echoes, typing exclusion, replays) is the chat
 * module's business: this actor knows followers only by id.
 *
 * On a Redis Cluster the subscription is a sharded one (SSUBSCRIBE on the
 * master serving the conversation's slot). The broker keeps it there when
 * the slot moves or its master fails over, and then calls its onReconnect
 * callbacks, so the followers resync by seq as after any reconnect.
 */
import { Actor } from "./kernel";
import type { Unsubscribe } from "../src/engine/types";

export interface Follower {
  readonly id: string;
}

/** Fans one serialized event out to the conversation's local followers. Owned by the chat module. */
export interface ConversationDelivery<F extends Follower> {
  deliver(conversationId: string, payload: string, followers: ReadonlyMap<string, F>): void;
}

/** Subscribes to one conversation's events (the broker channel `chat:{id}`). */
export type ConversationSource = (conversationId: string, handler: (payload: string) => void) => Promise<Unsubscribe>;

export type ConversationMsg<F extends Follower> =
  | { type: "follow"; follower: F }
  | { type: "unfollow"; followerId: string }
  /** A serialized event from the broker (or from the local Redis-down path). */
  | { type: "event"; payload: string };

export class ConversationActor<F extends Follower> extends Actor<ConversationMsg<F>> {
  private unsubscribe: Unsubscribe | null = null;

  constructor(
    readonly conversationId: string,
    private readonly followers: Map<string, F>,
    private readonly source: ConversationSource,
    private readonly delivery: ConversationDelivery<F>,
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

  protected async handle(msg: ConversationMsg<F>) {
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
        if (this.followers.size > 0) this.delivery.deliver(this.conversationId, msg.payload, this.followers);
    }
  }

  private async subscribe() {
    // tell() from the broker callback: events are handled in order, one at a time, by this actor.
    this.unsubscribe = await this.source(this.conversationId, (payload) => {
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
export function conversationActorFactory<F extends Follower>(source: ConversationSource, delivery: ConversationDelivery<F>, idleMs: number) {
  const sets = new Map<string, Map<string, F>>();
  return (conversationId: string) => {
    let set = sets.get(conversationId);
    if (!set) sets.set(conversationId, (set = new Map()));
    const mine = set;
    return new ConversationActor<F>(conversationId, mine, source, delivery, idleMs, () => {
      if (mine.size === 0 && sets.get(conversationId) === mine) sets.delete(conversationId);
    });
  };
}
