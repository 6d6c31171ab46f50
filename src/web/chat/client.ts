/**
 * Connects the store to the socket: applies server frames, resumes every
 * conversation that fell behind (after a gap or a reconnect), and delivers
 * own messages. A message is sent over the socket with a client_id; if no
 * confirmation comes back in time it is retried over HTTP with the same
 * client_id, which the server deduplicates, so nothing is doubled.
 */
import { post, retryAt } from "../lib/api";
import { ChatSocket, type ServerFrame, type SocketStatus } from "../lib/socket";
import type { Message, User } from "../lib/types";
import { ChatStore, type Pending } from "./store";

const CONFIRM_TIMEOUT_MS = 6000;
const TYPING_EVERY_MS = 2500;
const RESUME_RETRY_MS = 3000;

export class ChatClient {
  readonly store: ChatStore;
  readonly socket: ChatSocket;
  private resumeAsked = new Map<string, number>();
  private lastTyping = 0;
  private frameListeners = new Set<(f: ServerFrame) => void>();
  private statusListeners = new Set<(s: SocketStatus) => void>();
  private pollTimer?: ReturnType<typeof setInterval>;

  constructor(me: User) {
    this.store = new ChatStore(me);
    this.socket = new ChatSocket((f) => this.onFrame(f), (s) => this.statusListeners.forEach((fn) => fn(s)));
  }

  start() {
    void this.store.loadConversations().then((behind) => behind.forEach((id) => this.resume(id))).catch(() => {});
    this.socket.start();
    // A safety net for events the socket cannot carry (e.g. a conversation created while offline).
    this.pollTimer = setInterval(() => {
      if (document.visibilityState === "visible") this.store.reloadSoon((behind) => behind.forEach((id) => this.resume(id)));
    }, 60_000);
  }

  stop() {
    clearInterval(this.pollTimer);
    this.socket.stop();
  }

  /** Frames other parts of the app care about (problem results). */
  onFrame$(fn: (f: ServerFrame) => void) {
    this.frameListeners.add(fn);
    return () => this.frameListeners.delete(fn);
  }

  onStatus(fn: (s: SocketStatus) => void) {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  send(target: { conversation_id: string } | { to: string }, content: string) {
    const p: Pending = {
      client_id: crypto.randomUUID(),
      conversation_id: "conversation_id" in target ? target.conversation_id : null,
      to: "to" in target ? target.to : null,
      content,
      state: "sending",
      created: new Date().toISOString(),
    };
    this.store.pending.set(p.client_id, p);
    this.store.emit({ type: "pending" });
    this.transmit(p);
  }

  retry(clientId: string) {
    const p = this.store.pending.get(clientId);
    if (!p) return;
    p.state = "sending";
    p.error = undefined;
    p.retryAt = null;
    this.store.emit({ type: "pending" });
    this.transmit(p);
  }

  discard(clientId: string) {
    if (this.store.pending.delete(clientId)) this.store.emit({ type: "pending" });
  }

  typing(conversationId: string) {
    if (Date.now() - this.lastTyping < TYPING_EVERY_MS) return;
    this.lastTyping = Date.now();
    this.socket.send({ type: "typing", conversation_id: conversationId });
  }

  markRead(conversationId: string) {
    this.store.markRead(conversationId, (f) => this.socket.send(f));
  }

  private transmit(p: Pending) {
    const target = p.conversation_id ? { conversation_id: p.conversation_id } : { to: p.to! };
    const frame = { type: "send", ...target, content: p.content, client_id: p.client_id };
    if (this.socket.send(frame)) {
      setTimeout(() => {
        if (this.store.pending.get(p.client_id)?.state === "sending") void this.viaHttp(p, target);
      }, CONFIRM_TIMEOUT_MS);
    } else void this.viaHttp(p, target);
  }

  private async viaHttp(p: Pending, target: object) {
    try {
      const { message } = await post<{ message: Message }>("/chat/send", { ...target, content: p.content, client_id: p.client_id });
      this.accept(message);
    } catch (err) {
      this.fail(p.client_id, (err as Error).message, retryAt(err));
    }
  }

  private fail(clientId: string, error: string, until: number | null) {
    const p = this.store.pending.get(clientId);
    if (!p) return;
    p.state = "failed";
    p.error = error;
    p.retryAt = until;
    this.store.emit({ type: "pending" });
  }

  private accept(m: Message) {
    // A conversation new to us (just created or joined): the list brings its last seq; replaying its whole past would be waste.
    const known = this.store.convs.has(m.conversation_id);
    if (!known) this.store.reloadSoon();
    if (this.store.ingest(m) === "gap" && known) this.resume(m.conversation_id);
  }

  /** Asks the server for everything after our last contiguous seq (at most once per few seconds). */
  resume(id: string) {
    const now = Date.now();
    if (now - (this.resumeAsked.get(id) ?? 0) < RESUME_RETRY_MS) return;
    if (this.socket.send({ type: "resume", conversation_id: id, after_seq: this.store.thread(id).lastSeq })) this.resumeAsked.set(id, now);
  }

  private onFrame(f: ServerFrame) {
    const s = this.store;
    switch (f.type) {
      case "ready": {
        this.resumeAsked.clear();
        for (const c of f.conversations as { conversation_id: string; last_seq: number; last_read_seq: number }[]) {
          if (!s.convs.has(c.conversation_id)) {
            if (s.convsLoaded) s.reloadSoon();
            continue;
          }
          s.readUpTo(c.conversation_id, c.last_read_seq);
          if (c.last_seq > s.thread(c.conversation_id).lastSeq) this.resume(c.conversation_id);
        }
        for (const p of s.pending.values()) if (p.state === "sending") this.transmit(p);
        break;
      }
      case "message":
        this.accept(f.message as Message);
        break;
      case "typing":
        if (f.user_id !== s.me.id) s.setTyping(f.conversation_id, f.user_id);
        break;
      case "read":
        if (f.user_id === s.me.id) s.readUpTo(f.conversation_id, f.seq);
        else {
          s.peerRead.set(f.conversation_id, Math.max(s.peerRead.get(f.conversation_id) ?? 0, f.seq));
          s.emit({ type: "read", id: f.conversation_id });
        }
        break;
      case "presence":
        for (const c of s.convs.values()) {
          const peer = c.peer;
          if (peer && peer.id === f.user_id) {
            peer.online = f.online;
            peer.last_active = f.last_active;
          }
        }
        s.emit({ type: "convs" });
        break;
      case "conversation":
        // A conversation I was just added to (if the server forwards it): list it and fetch what it holds.
        s.reloadSoon((behind) => behind.forEach((id) => this.resume(id)));
        break;
      case "conversation.left":
        s.forget(f.conversation_id, f.reason === "removed" || f.reason === "deleted" ? f.reason : "left");
        break;
      case "conversation.cleared":
        s.clearedUpTo(f.conversation_id, Number(f.cleared_seq));
        break;
      case "conversation.hidden":
        s.reloadSoon();
        break;
      case "error":
        if (f.ref && s.pending.has(f.ref)) this.fail(f.ref, f.message, retryAt(f));
        break;
    }
    for (const fn of this.frameListeners) fn(f);
  }
}
