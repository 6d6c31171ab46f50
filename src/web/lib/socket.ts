/**
 * The one WebSocket to /chat/subscribe. Reconnects with exponential backoff
 * and jitter; 4001 (token expired) refreshes first; a ping every 25 s with a
 * pong deadline notices dead connections that never send a close. What to do
 * after a reconnect (resume per conversation) belongs to the chat store,
 * which sees the `ready` frame.
 */
import { freshSession } from "./api";
import { refreshSession } from "./session";

export type SocketStatus = "connecting" | "open" | "offline";
export type ServerFrame = { type: string; [k: string]: any };

const PING_EVERY_MS = 25_000;
const PONG_DEADLINE_MS = 10_000;
const MAX_BACKOFF_MS = 15_000;

export class ChatSocket {
  status: SocketStatus = "offline";
  /** When the next attempt is due while offline (for the banner). */
  retryAt = 0;
  private ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  /** Set by a 4001 close: the server says the token expired, whatever our clock thinks. */
  private mustRefresh = false;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private pingTimer?: ReturnType<typeof setInterval>;
  private pongTimer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly onFrame: (f: ServerFrame) => void,
    private readonly onStatus: (s: SocketStatus) => void,
  ) {
    addEventListener("online", this.retryNow);
    document.addEventListener("visibilitychange", this.onVisible);
  }

  start() {
    this.stopped = false;
    void this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.ws?.close(1000, "bye");
    this.ws = null;
    removeEventListener("online", this.retryNow);
    document.removeEventListener("visibilitychange", this.onVisible);
    this.setStatus("offline");
  }

  get isOpen() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(frame: object): boolean {
    if (!this.isOpen) return false;
    this.ws!.send(JSON.stringify(frame));
    return true;
  }

  /** Skips the remaining backoff (network back, tab visible again). */
  retryNow = () => {
    if (this.stopped || this.status !== "offline") return;
    clearTimeout(this.retryTimer);
    void this.connect();
  };

  private onVisible = () => {
    if (document.visibilityState === "visible") this.retryNow();
  };

  private setStatus(s: SocketStatus) {
    this.status = s;
    this.onStatus(s);
  }

  private async connect() {
    if (this.stopped) return;
    this.setStatus("connecting");
    let token: string;
    try {
      let s = await freshSession();
      if (this.mustRefresh) s = (await refreshSession(s.access_token)) ?? (await freshSession());
      this.mustRefresh = false;
      token = s.access_token;
    } catch {
      // Signed out (the app handles it) or offline: try again later unless stopped.
      return this.scheduleRetry();
    }
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    // The token travels as a subprotocol, which keeps it out of URLs and access logs.
    const ws = new WebSocket(`${proto}//${location.host}/chat/subscribe`, ["bearer", token]);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setStatus("open");
      this.pingTimer = setInterval(() => this.ping(), PING_EVERY_MS);
    };
    ws.onmessage = (e) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (frame.type === "pong") clearTimeout(this.pongTimer);
      else this.onFrame(frame);
    };
    ws.onclose = (e) => {
      clearInterval(this.pingTimer);
      clearTimeout(this.pongTimer);
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      // Token expired: refresh and reconnect at once. Others back off.
      if (e.code === 4001) {
        this.attempt = 0;
        this.mustRefresh = true;
      }
      // Too many sockets for this user (other tabs): wait long before trying again.
      if (e.code === 4029) this.attempt = Math.max(this.attempt, 5);
      this.scheduleRetry(e.code === 4001 || e.code === 4008 ? 0 : undefined);
    };
  }

  private ping() {
    if (!this.send({ type: "ping" })) return;
    clearTimeout(this.pongTimer);
    this.pongTimer = setTimeout(() => this.ws?.close(4000, "no pong"), PONG_DEADLINE_MS);
  }

  private scheduleRetry(delayMs?: number) {
    if (this.stopped) return;
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt++);
    const delay = delayMs ?? base / 2 + Math.random() * (base / 2);
    this.retryAt = Date.now() + delay;
    this.setStatus("offline");
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }
}
