/**
 * The sockets of this instance. Per connected user: one `user:{id}`
 * subscription (new conversations, problem results, revoked sessions, which
 * close sockets with 4001) and the presence key kept alive; each followed
 * conversation is handed to its actor, which owns `chat:{id}`. After the
 * subscriber connection comes back (events were missed meanwhile), every
 * socket gets a fresh `ready` frame and the client resumes where it is behind.
 */
import type { Broker, Presence, Unsubscribe } from "../../engine/types";
import { userChannel } from "../../engine/names";
import { log } from "../../lib/log";
import { rateLimited } from "../../plugins/metrics";
import type { ChatEvent, LocalDelivery } from "./events";
import type { ChatService } from "./service";
import { CLOSE, type Connection } from "./connection";
import { chatMetrics } from "./metrics";
import type { NativeFanOut } from "./fanout";
import { BurstCollector } from "./burst-gc";

/** The conversation actors of this instance, as the composition root hands them to the hub. */
export type ConversationRoutes = {
  follow(conversationId: string, follower: Connection): void;
  unfollow(conversationId: string, followerId: string): void;
  event(conversationId: string, payload: string): void;
};

/** Where users.last_active is written (the users module). */
export type LastActiveSink = { touchLastActive(userId: string, at: Date): Promise<void> };

export type HubOptions = { presenceTtlSec: number; maxSocketsPerUser: number };

const LAST_ACTIVE_EVERY_MS = 30_000;
/** How often sockets whose access token expired are looked for (one timer per instance, not per socket). */
const EXPIRY_SWEEP_MS = 500;
/** A burst of this many socket set-ups, then a second without one, is followed by one GC (burst-gc.ts). */
const GC_BURST = 200;
const GC_QUIET_MS = 1_000;

export class SocketHub implements LocalDelivery {
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly userSubs = new Map<string, Promise<Unsubscribe | null>>();
  private readonly lastActiveWritten = new Map<string, number>();
  private heartbeat?: ReturnType<typeof setInterval>;
  private readonly expirySweep: ReturnType<typeof setInterval>;
  private readonly burstGc = new BurstCollector(GC_BURST, GC_QUIET_MS);
  private readonly stopResync: () => void;

  constructor(
    private readonly conversations: ConversationRoutes,
    private readonly broker: Broker,
    private readonly presence: Presence,
    private readonly chat: ChatService,
    private readonly users: LastActiveSink,
    private readonly opts: HubOptions,
    /** This instance's native fan-out (the conversation actors deliver through it). */
    readonly fanOut: NativeFanOut,
  ) {
    this.heartbeat = setInterval(() => void this.refreshPresence(), Math.max(1000, (opts.presenceTtlSec * 1000) / 3));
    this.heartbeat.unref?.();
    this.expirySweep = setInterval(() => this.closeExpired(Date.now()), EXPIRY_SWEEP_MS);
    this.expirySweep.unref?.();
    this.stopResync = broker.onReconnect(() => void this.resyncAll());
  }

  /** A socket is set up (its `ready` sent): counts towards a burst (burst-gc.ts). */
  settled() {
    this.burstGc.note();
  }

  /** What a socket hears first: its conversations with their last seqs, so it can resume where it is behind. */
  async readyFrame(userId: string, resync = false) {
    return { type: "ready", user_id: userId, conversations: await this.chat.lastSeqs(userId), ...(resync ? { resync: true } : {}) };
  }

  /** Events published while the subscriber connection was down never arrive: every socket is told to resume. */
  async resyncAll() {
    const users = [...this.byUser.entries()];
    log.info({ users: users.length }, "subscriber reconnected; sockets told to resume");
    await Promise.all(users.map(async ([userId, conns]) => {
      try {
        const frame = await this.readyFrame(userId, true);
        for (const conn of conns) conn.send(frame);
      } catch (err) {
        // Without the list the client cannot know it is behind: close so it reconnects and resumes.
        log.warn({ err, userId }, "resync failed; closing the user's sockets");
        for (const conn of [...conns]) conn.shut(CLOSE.setupFailed);
      }
    }));
  }

  get socketCount() {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }

  /** Registers a socket; false (and the socket closed) when the user has too many. */
  async open(conn: Connection): Promise<boolean> {
    let mine = this.byUser.get(conn.userId);
    if (mine && mine.size >= this.opts.maxSocketsPerUser) {
      rateLimited.inc({ scope: "sockets" });
      conn.shut(CLOSE.tooManySockets);
      return false;
    }
    const first = !mine;
    if (!mine) this.byUser.set(conn.userId, (mine = new Set()));
    mine.add(conn);
    chatMetrics.sockets.inc();
    if (first) this.userSubs.set(conn.userId, this.subscribeUser(conn.userId));
    await this.userSubs.get(conn.userId);
    const ids = await this.chat.conversationIdsOf(conn.userId);
    for (const id of ids) this.follow(conn, id);
    if (first) void this.announce(conn.userId, true, ids);
    return true;
  }

  close(conn: Connection) {
    const mine = this.byUser.get(conn.userId);
    if (!mine?.delete(conn)) return;
    chatMetrics.sockets.dec();
    for (const id of conn.follows) this.conversations.unfollow(id, conn.id);
    conn.follows.clear();
    if (mine.size > 0) return;
    this.byUser.delete(conn.userId);
    const sub = this.userSubs.get(conn.userId);
    this.userSubs.delete(conn.userId);
    void sub?.then((unsubscribe) => unsubscribe?.()).catch(() => {});
    void this.chat.conversationIdsOf(conn.userId).then((ids) => this.announce(conn.userId, false, ids)).catch(() => {});
  }

  follow(conn: Connection, conversationId: string) {
    if (conn.closed || conn.follows.has(conversationId)) return;
    conn.follow(conversationId);
    this.conversations.follow(conversationId, conn);
  }

  /** Off the topic at once (conn.unfollow), then out of the actor's followers. */
  unfollow(conn: Connection, conversationId: string) {
    if (!conn.follows.has(conversationId)) return;
    conn.unfollow(conversationId);
    this.conversations.unfollow(conversationId, conn.id);
  }

  /** Sockets whose access token expired are closed with 4001 (the client refreshes and reconnects). */
  closeExpired(now: number) {
    for (const set of this.byUser.values()) for (const conn of set) if (conn.expiresAt <= now) conn.shut(CLOSE.tokenExpired);
  }

  /** Redis-down path (see LocalDelivery). */
  toConversation(conversationId: string, event: ChatEvent) {
    this.conversations.event(conversationId, JSON.stringify(event));
  }

  /** Closes every socket with a reason (shutdown). */
  closeAll(how: { code: number; reason: string }) {
    for (const set of [...this.byUser.values()]) for (const conn of [...set]) conn.shut(how);
    clearInterval(this.heartbeat);
    clearInterval(this.expirySweep);
    this.burstGc.stop();
    this.stopResync();
  }

  private async subscribeUser(userId: string): Promise<Unsubscribe | null> {
    try {
      return await this.broker.subscribe(userChannel(userId), (payload) => this.onUserEvent(userId, payload));
    } catch (err) {
      log.warn({ err, userId }, "user channel subscription failed; live events for this user are limited to this instance");
      return null;
    }
  }

  private onUserEvent(userId: string, payload: string) {
    const conns = this.byUser.get(userId);
    if (!conns) return;
    const event = JSON.parse(payload) as { type: string; conversation_id?: string; generation?: number; except_session?: string | null };
    if (event.type === "session.revoked") {
      for (const conn of [...conns]) if (conn.revokedBy(event.generation ?? 0, event.except_session ?? null)) conn.shut(CLOSE.sessionRevoked);
      return;
    }
    for (const conn of conns) {
      if (event.type === "conversation" && event.conversation_id) {
        this.follow(conn, event.conversation_id);
        conn.sendRaw(payload); // lets the client add the conversation to its list at once
      } else if (event.type === "conversation.left" && event.conversation_id) this.unfollow(conn, event.conversation_id);
      else conn.sendRaw(payload);
    }
  }

  /** Online at once; offline when the last local socket closes. Crashed instances expire via the TTL. */
  private async announce(userId: string, online: boolean, conversationIds: string[]) {
    const lastActive = new Date();
    try {
      if (online) await this.presence.setOnline(userId, this.opts.presenceTtlSec);
      else await this.presence.setOffline(userId);
    } catch {
      // Presence is best effort while Redis is down.
    }
    await this.touchLastActive(userId, lastActive, true);
    const event: ChatEvent = { type: "presence", user_id: userId, online, last_active: lastActive.toISOString() };
    await Promise.all(conversationIds.map((id) => this.chat.publish(id, event).catch(() => {})));
  }

  private async refreshPresence() {
    const now = Date.now();
    await Promise.all([...this.byUser.keys()].map(async (userId) => {
      try {
        await this.presence.setOnline(userId, this.opts.presenceTtlSec);
      } catch {
        // retried on the next beat
      }
      await this.touchLastActive(userId, new Date(now), false);
    }));
  }

  /** users.last_active, written at most every 30 s per user (and always on connect/disconnect). */
  private async touchLastActive(userId: string, at: Date, force: boolean) {
    const last = this.lastActiveWritten.get(userId) ?? 0;
    if (!force && at.getTime() - last < LAST_ACTIVE_EVERY_MS) return;
    this.lastActiveWritten.set(userId, at.getTime());
    if (!this.byUser.has(userId)) this.lastActiveWritten.delete(userId);
    try {
      await this.users.touchLastActive(userId, at);
    } catch (err) {
      log.debug({ err }, "last_active update failed");
    }
  }
}
