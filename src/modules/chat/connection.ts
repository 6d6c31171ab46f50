/**
 * One client WebSocket as the chat layer sees it: what it follows, the ids of
 * its own sends (so the broker's echo is not delivered twice), and a send that
 * closes the socket instead of buffering without bound for a slow reader.
 */

export type RawSocket = {
  send(data: string): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount?(): number;
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

const MAX_OWN = 1_000;
/** Live frames one conversation may hold back during a replay; more closes the socket (reconnect and resume). */
const MAX_HELD = 5_000;

/** A follower of conversation actors (by id) and the target of the chat fan-out (fanout.ts). */
export class Connection {
  readonly follows = new Set<string>();
  private readonly own = new Set<string>();
  /** Conversations being replayed (resume): their live message frames wait here so the replay goes first. */
  private readonly held = new Map<string, { seq: number; frame: string }[]>();
  /** Per conversation, the seq the client has up to after its last resume: older live frames are repeats. */
  private readonly replayedTo = new Map<string, number>();
  /** The last frame sent per `sendOnce` key. */
  private readonly lastOnce = new Map<string, string>();
  /** Frames produced while the session is set up, sent right after `ready`; null once ready. */
  private early: string[] | null = null;
  private chain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  closed = false;
  expiryTimer?: ReturnType<typeof setTimeout>;
  /** From the access token: its session (refresh-token family) and token generation, for `session.revoked`. */
  sessionId: string | null = null;
  generation = 0;

  constructor(
    readonly id: string,
    readonly userId: string,
    private readonly socket: RawSocket,
    private readonly maxBufferedBytes: number,
  ) {}

  /** A password change raised the user's token generation to `generation`: older sockets close, except the changing session's. */
  revokedBy(generation: number, exceptSession: string | null): boolean {
    return this.generation < generation && (exceptSession === null || this.sessionId !== exceptSession);
  }

  sendRaw(frame: string) {
    if (this.closed) return;
    if (this.early) {
      if (this.early.length >= MAX_HELD) this.close(CLOSE.slowConsumer);
      else this.early.push(frame);
      return;
    }
    const sent = this.socket.send(frame);
    // 0 = Bun dropped the frame (backpressure limit); never drop silently: close and let the client resume.
    if (sent === 0 || (this.socket.getBufferedAmount?.() ?? 0) > this.maxBufferedBytes) this.close(CLOSE.slowConsumer);
  }

  send(frame: object) {
    this.sendRaw(JSON.stringify(frame));
  }

  sendOnce(key: string, frame: string) {
    if (this.lastOnce.get(key) === frame) return;
    if (this.lastOnce.size >= MAX_OWN) this.lastOnce.clear();
    this.lastOnce.set(key, frame);
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
  }

  sendMessage(conversationId: string, seq: number, frame: string) {
    const held = this.held.get(conversationId);
    if (held) {
      if (held.length >= MAX_HELD) this.close(CLOSE.slowConsumer);
      else held.push({ seq, frame });
      return;
    }
    if (seq <= (this.replayedTo.get(conversationId) ?? 0)) return;
    this.sendRaw(frame);
  }

  /** A resume starts: live message frames of the conversation wait until `endReplay`. */
  beginReplay(conversationId: string) {
    this.held.set(conversationId, []);
  }

  /**
   * Sends the replay (the client has everything up to `afterSeq`, then these,
   * in order), then the live frames that arrived meanwhile and are newer, so
   * each seq reaches the socket once and in order. Without a replay (the
   * resume failed) the held frames go out as they are.
   */
  endReplay(conversationId: string, replay?: { afterSeq: number; messages: { seq: number }[] }) {
    const held = this.held.get(conversationId) ?? [];
    this.held.delete(conversationId);
    if (replay) {
      let top = replay.afterSeq;
      for (const message of replay.messages) {
        this.send({ type: "message", message, resumed: true });
        top = Math.max(top, message.seq);
      }
      this.replayedTo.set(conversationId, top);
    }
    for (const h of held) this.sendMessage(conversationId, h.seq, h.frame);
  }

  expectOwn(messageId: string) {
    if (this.own.size >= MAX_OWN) this.own.clear();
    this.own.add(messageId);
  }

  consumeOwn(messageId: string): boolean {
    return this.own.delete(messageId);
  }

  /** Runs frame handlers one at a time, in arrival order; refuses when too many are queued. */
  enqueue(task: () => Promise<void>, maxQueued: number): boolean {
    if (this.inFlight >= maxQueued) return false;
    this.inFlight++;
    this.chain = this.chain.then(task).catch(() => {}).finally(() => {
      this.inFlight--;
    });
    return true;
  }

  close(how: { code: number; reason: string }) {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.expiryTimer);
    try {
      this.socket.close(how.code, how.reason);
    } catch {
      // already closed by the peer
    }
  }
}
