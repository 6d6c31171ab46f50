/**
 * One client WebSocket as the chat layer sees it: what it follows, the ids of
 * its own sends (so the broker's echo is not delivered twice), and a send that
 * closes the socket instead of buffering without bound for a slow reader.
 */
import type { Follower } from "../../../actors/conversation.actor";

export type RawSocket = {
  send(data: string): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount?(): number;
};

export const CLOSE = {
  tokenExpired: { code: 4001, reason: "token expired: reconnect with a fresh token" },
  slowConsumer: { code: 4008, reason: "slow consumer: reconnect and resume from your last seq" },
  tooManySockets: { code: 4029, reason: "too many open sockets for this user" },
  shutdown: { code: 1001, reason: "server shutting down: reconnect and resume" },
  setupFailed: { code: 1011, reason: "server could not set up the session: reconnect" },
} as const;

const MAX_OWN = 1_000;

export class Connection implements Follower {
  readonly follows = new Set<string>();
  private readonly own = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  closed = false;
  expiryTimer?: ReturnType<typeof setTimeout>;

  constructor(
    readonly id: string,
    readonly userId: string,
    private readonly socket: RawSocket,
    private readonly maxBufferedBytes: number,
  ) {}

  sendRaw(frame: string) {
    if (this.closed) return;
    const sent = this.socket.send(frame);
    // 0 = Bun dropped the frame (backpressure limit); never drop silently: close and let the client resume.
    if (sent === 0 || (this.socket.getBufferedAmount?.() ?? 0) > this.maxBufferedBytes) this.close(CLOSE.slowConsumer);
  }

  send(frame: object) {
    this.sendRaw(JSON.stringify(frame));
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
