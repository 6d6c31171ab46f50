/**
 * One client WebSocket as the chat layer sees it, kept small (it lives as
 * long as the socket): who it is, what it follows, and the state of the few
 * conversations that cannot use the native fan-out right now.
 *
 * A followed conversation is normally a Bun topic the socket is subscribed
 * to, so a message reaches it through one `server.publish` per instance
 * (fanout.ts). Until `ready`, during a resume's replay, and after a replay
 * until the first newer live message, the socket is off the topic and gets
 * frames one by one (`sendMessage`), so it sees each seq once and in order.
 * A send that would buffer without bound closes the socket with a reason.
 */

export type RawSocket = {
  send(data: string): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount?(): number;
  subscribe?(topic: string): void;
  unsubscribe?(topic: string): void;
  /** To every subscriber of the topic but this socket. */
  publish?(topic: string, data: string): number;
};

export const CLOSE = {
  tokenExpired: { code: 4001, reason: "token expired: reconnect with a fresh token" },
  // Same code as an expired token: clients already refresh on 4001, and the refused refresh sends them to log in.
  sessionRevoked: { code: 4001, reason: "session revoked (password changed): log in again" },
  slowConsumer: { code: 4008, reason: "slow consumer: reconnect and resume from your last seq" },
  tooManySockets: { code: 4029, reason: "too many open sockets for this user" },
  shutdown: { code: 1001, reason: "server shutting down: reconnect and resume" },
  setupFailed: { code: 1011, reason: "server could not set up the session: reconnect" },
} as const;

const MAX_ONCE = 1_000;
/** Live frames one conversation may hold back during a replay; more closes the socket (reconnect and resume). */
const MAX_HELD = 5_000;
const DONE: Promise<void> = Promise.resolve();

/** A conversation's Bun topic (topics live per server, so the id alone is unique). */
export const topicOf = (conversationId: string) => conversationId;

/** A follower of conversation actors (by id) and the target of the chat fan-out (fanout.ts). */
export class Connection {
  readonly follows = new Set<string>();
  /** Conversations being replayed (resume): their live message frames wait here so the replay goes first. */
  private held: Map<string, { seq: number; frame: string }[]> | null = null;
  /** Per conversation, the seq the client has up to after its last resume: older live frames are repeats. */
  private replayedTo: Map<string, number> | null = null;
  /** The last frame sent per `sendOnce` key. */
  private lastOnce: Map<string, string> | null = null;
  /** Frames produced while the session is set up, sent right after `ready`; null once ready. */
  private early: string[] | null = null;
  private chain: Promise<void> = DONE;
  private inFlight = 0;
  closed = false;
  /** When the access token expires (ms since epoch); the hub closes the socket then. */
  expiresAt = Infinity;
  /** From the access token: its session (refresh-token family) and token generation, for `session.revoked`. */
  sessionId: string | null = null;
  generation = 0;

  constructor(
    readonly id: string,
    readonly userId: string,
    protected socket: RawSocket,
    private readonly maxBufferedBytes: number,
  ) {}

  /** A password change raised the user's token generation to `generation`: older sockets close, except the changing session's. */
  revokedBy(generation: number, exceptSession: string | null): boolean {
    return this.generation < generation && (exceptSession === null || this.sessionId !== exceptSession);
  }

  /** True when the conversation's frames reach this socket through its topic (not one by one). */
  native(conversationId: string): boolean {
    return this.early === null && !this.closed && !this.held?.has(conversationId) && !this.replayedTo?.has(conversationId);
  }

  follow(conversationId: string) {
    this.follows.add(conversationId);
    this.promote(conversationId);
  }

  /** Leaves the topic at once: a removed member hears nothing more of the conversation. */
  unfollow(conversationId: string) {
    this.follows.delete(conversationId);
    this.held?.delete(conversationId);
    this.replayedTo?.delete(conversationId);
    this.topic("unsubscribe", conversationId);
  }

  /** Publishes to the conversation's other local subscribers (this socket sent the message). */
  publish(conversationId: string, frame: string) {
    this.socket.publish?.(topicOf(conversationId), frame);
  }

  private promote(conversationId: string) {
    if (this.follows.has(conversationId) && this.native(conversationId)) this.topic("subscribe", conversationId);
  }

  private topic(op: "subscribe" | "unsubscribe", conversationId: string) {
    try {
      this.socket[op]?.(topicOf(conversationId));
    } catch {
      // the socket closed meanwhile
    }
  }

  sendRaw(frame: string) {
    if (this.closed) return;
    if (this.early) {
      if (this.early.length >= MAX_HELD) this.shut(CLOSE.slowConsumer);
      else this.early.push(frame);
      return;
    }
    const sent = this.socket.send(frame);
    // 0 = Bun dropped the frame (backpressure limit); never drop silently: close and let the client resume.
    if (sent === 0) this.shut(CLOSE.slowConsumer);
    else this.checkBackpressure();
  }

  /** Closes a socket whose reader fell behind (also after topic publishes, which report no per-socket result). */
  checkBackpressure() {
    if ((this.socket.getBufferedAmount?.() ?? 0) > this.maxBufferedBytes) this.shut(CLOSE.slowConsumer);
  }

  send(frame: object) {
    this.sendRaw(JSON.stringify(frame));
  }

  sendOnce(key: string, frame: string) {
    const last = (this.lastOnce ??= new Map());
    if (last.get(key) === frame) return;
    if (last.size >= MAX_ONCE) last.clear();
    last.set(key, frame);
    this.sendRaw(frame);
  }

  /** Until `ready`, frames wait: a client hears `ready` (its conversations and seqs) before anything else. */
  holdUntilReady() {
    this.early = [];
  }

  ready(frame: object) {
    const early = this.early ?? [];
    this.early = null;
    this.send(frame);
    for (const f of early) this.sendRaw(f);
    // From here on, followed conversations arrive through their topics.
    for (const id of this.follows) this.promote(id);
  }

  /** A message frame for a socket off the topic (see `native`). */
  sendMessage(conversationId: string, seq: number, frame: string) {
    const held = this.held?.get(conversationId);
    if (held) {
      if (held.length >= MAX_HELD) this.shut(CLOSE.slowConsumer);
      else held.push({ seq, frame });
      return;
    }
    const upTo = this.replayedTo?.get(conversationId);
    if (upTo !== undefined) {
      if (seq <= upTo) return;
      // The first live frame past the replay: every later one is newer, so the topic can take over.
      this.replayedTo!.delete(conversationId);
      this.sendRaw(frame);
      this.promote(conversationId);
      return;
    }
    this.sendRaw(frame);
  }

  /** A resume starts: the socket leaves the topic and live message frames of the conversation wait until `endReplay`. */
  beginReplay(conversationId: string) {
    (this.held ??= new Map()).set(conversationId, []);
    this.replayedTo?.delete(conversationId);
    this.topic("unsubscribe", conversationId);
  }

  /**
   * Sends the replay (the client has everything up to `afterSeq`, then these,
   * in order), then the live frames that arrived meanwhile and are newer, so
   * each seq reaches the socket once and in order. Without a replay (the
   * resume failed) the held frames go out as they are.
   */
  endReplay(conversationId: string, replay?: { afterSeq: number; messages: { seq: number }[] }) {
    const held = this.held?.get(conversationId) ?? [];
    this.held?.delete(conversationId);
    if (replay) {
      let top = replay.afterSeq;
      for (const message of replay.messages) {
        this.send({ type: "message", message, resumed: true });
        top = Math.max(top, message.seq);
      }
      (this.replayedTo ??= new Map()).set(conversationId, top);
    }
    for (const h of held) this.sendMessage(conversationId, h.seq, h.frame);
    this.promote(conversationId);
  }

  /** Runs frame handlers one at a time, in arrival order; refuses when too many are queued. */
  enqueue(task: () => Promise<void>, maxQueued: number): boolean {
    if (this.inFlight >= maxQueued) return false;
    this.inFlight++;
    this.chain = this.chain.then(task).catch(() => {}).finally(() => {
      if (--this.inFlight === 0) this.chain = DONE;
    });
    return true;
  }

  /** Closes the socket with a code and a reason the client acts on. */
  shut(how: { code: number; reason: string }) {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close(how.code, how.reason);
    } catch {
      // already closed by the peer
    }
  }
}
