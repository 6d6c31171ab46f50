/**
 * Client-side chat state: conversations, the messages seen per conversation
 * (deduplicated by seq), own messages waiting for the server, typing and read
 * markers. Views subscribe and re-render what changed.
 *
 * Seqs are contiguous per conversation, so `lastSeq` (the highest seq up to
 * which nothing is missing) tells the server where to resume after a gap or a
 * reconnect.
 */
import { get, post, qs } from "../lib/api";
import type { Conversation, History, Message, User } from "../lib/types";

export type Thread = { msgs: Map<number, Message>; lastSeq: number; oldest: number | null; hasMore: boolean; loaded: boolean; loading: boolean };
/** `retryAt`: after a rate-limit refusal, when a retry makes sense (ms since epoch). */
export type Pending = { client_id: string; conversation_id: string | null; to: string | null; content: string; state: "sending" | "failed"; error?: string; retryAt?: number | null; created: string };
export type Change = { type: "convs" } | { type: "thread"; id: string } | { type: "typing"; id: string } | { type: "pending" } | { type: "read"; id: string };

export class ChatStore {
  readonly convs = new Map<string, Conversation>();
  readonly threads = new Map<string, Thread>();
  readonly pending = new Map<string, Pending>();
  /** conversation -> user -> typing until (ms). */
  readonly typing = new Map<string, Map<string, number>>();
  /** conversation -> highest seq someone else has read. */
  readonly peerRead = new Map<string, number>();
  readonly names = new Map<string, string>();
  /** Conversations I am no longer in (left here or elsewhere, removed, room deleted), with why. */
  readonly left = new Map<string, "left" | "removed" | "deleted">();
  /** The conversation on screen, if any. */
  active: string | null = null;
  convsLoaded = false;
  private listeners = new Set<(c: Change) => void>();
  private reloadTimer?: ReturnType<typeof setTimeout>;
  private lookups = new Set<string>();

  constructor(readonly me: User) {
    this.names.set(me.id, me.display_name || me.username);
  }

  subscribe(fn: (c: Change) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(c: Change) {
    for (const fn of [...this.listeners]) fn(c);
  }

  thread(id: string): Thread {
    let t = this.threads.get(id);
    if (!t) this.threads.set(id, (t = { msgs: new Map(), lastSeq: 0, oldest: null, hasMore: true, loaded: false, loading: false }));
    return t;
  }

  sorted(): Conversation[] {
    return [...this.convs.values()].sort((a, b) => b.last_activity.localeCompare(a.last_activity));
  }

  directWith(userId: string): Conversation | undefined {
    for (const c of this.convs.values()) if (c.kind === "direct" && c.peer?.id === userId) return c;
  }

  /** Conversations behind the server's last seq, for the caller to resume. */
  async loadConversations(): Promise<string[]> {
    const { conversations } = await get<{ conversations: Conversation[] }>("/chat/conversations");
    const behind: string[] = [];
    this.convs.clear();
    for (const c of conversations) {
      this.convs.set(c.id, c);
      this.left.delete(c.id);
      if (c.peer) this.names.set(c.peer.id, c.peer.display_name || c.peer.username);
      const t = this.thread(c.id);
      if (t.loaded && c.last_seq > t.lastSeq) behind.push(c.id);
      else if (!t.loaded) t.lastSeq = Math.max(t.lastSeq, c.last_seq);
    }
    this.convsLoaded = true;
    this.emit({ type: "convs" });
    return behind;
  }

  /** I am out of conversation `id`: it leaves the list, and its view stops offering to write. */
  forget(id: string, reason: "left" | "removed" | "deleted") {
    this.left.set(id, reason);
    this.convs.delete(id);
    this.typing.delete(id);
    this.emit({ type: "convs" });
  }

  /** My history of `id` was cleared up to `seq` (here or on another device): those messages go. */
  clearedUpTo(id: string, seq: number) {
    const t = this.thread(id);
    for (const k of [...t.msgs.keys()]) if (k <= seq) t.msgs.delete(k);
    t.hasMore = false;
    t.oldest = seq + 1;
    t.lastSeq = Math.max(t.lastSeq, seq);
    this.advance(t);
    const c = this.convs.get(id);
    if (c) {
      if (c.last_message && c.last_message.seq <= seq) c.last_message = null;
      c.unread = 0;
      c.last_read_seq = Math.max(c.last_read_seq, seq);
    }
    this.emit({ type: "convs" });
    this.emit({ type: "thread", id });
  }

  /** Reloads the list soon (a conversation we did not know about appeared). */
  reloadSoon(then?: (behind: string[]) => void) {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.loadConversations().then((b) => then?.(b)).catch(() => {}), 150);
  }

  /** Loads the newest page (first call) or the page before the oldest loaded message. */
  async loadOlder(id: string): Promise<void> {
    const t = this.thread(id);
    if (t.loading || (t.loaded && !t.hasMore)) return;
    t.loading = true;
    try {
      const page = await get<History>(`/chat/history${qs({ conversation_id: id, before_seq: t.loaded ? (t.oldest ?? undefined) : undefined, limit: 50 })}`);
      for (const m of page.messages) t.msgs.set(m.seq, m);
      const first = page.messages[0];
      if (first) t.oldest = Math.min(t.oldest ?? first.seq, first.seq);
      if (!t.loaded) {
        const last = page.messages.at(-1);
        if (last) t.lastSeq = Math.max(t.lastSeq, last.seq);
        this.advance(t);
      }
      t.hasMore = page.has_more;
      t.loaded = true;
    } finally {
      t.loading = false;
    }
    this.emit({ type: "thread", id });
  }

  /** Adds a message from any source; returns "gap" when earlier seqs are missing. */
  ingest(m: Message): "new" | "dup" | "gap" {
    const t = this.thread(m.conversation_id);
    if (m.client_id && m.sender_id === this.me.id && this.pending.delete(m.client_id)) this.emit({ type: "pending" });
    if (t.msgs.has(m.seq) || (t.loaded && t.oldest !== null && m.seq < t.oldest)) return "dup";
    t.msgs.set(m.seq, m);
    const event = m.message_type === "edit" || m.message_type === "delete";
    if (event) this.applyEvent(t, m);
    const gap = m.seq > t.lastSeq + 1;
    this.advance(t);
    const c = this.convs.get(m.conversation_id);
    if (c) {
      // An edit or delete changes an earlier message: it is not the conversation's newest message, nor unread.
      if (event) {
        if (c.last_message && c.last_message.id === m.ref_id) c.last_message = t.msgs.get(c.last_message.seq) ?? c.last_message;
      } else if (!c.last_message || m.seq >= c.last_message.seq) {
        c.last_message = m;
        c.last_activity = m.timestamp;
      }
      c.last_seq = Math.max(c.last_seq, m.seq);
      // My own message (from here or another device) is never unread, and moves my marker as it does on the server.
      // Likewise whoever wrote it has read up to it: their "Seen" reaches my earlier messages.
      if (m.sender_id === this.me.id) this.readUpTo(c.id, m.seq);
      else if (m.seq > (this.peerRead.get(c.id) ?? 0)) this.peerRead.set(c.id, m.seq);
      if (!event && m.sender_id !== this.me.id && m.seq > c.last_read_seq && !this.isWatching(c.id)) c.unread += 1;
      this.emit({ type: "convs" });
    }
    this.clearTyping(m.conversation_id, m.sender_id);
    this.emit({ type: "thread", id: m.conversation_id });
    return gap ? "gap" : "new";
  }

  /** An edit or delete entry: the message it names (when loaded) now reads as edited or as a tombstone. */
  private applyEvent(t: Thread, e: Message) {
    const target = e.ref_seq !== undefined ? t.msgs.get(e.ref_seq) : undefined;
    if (!target || target.id !== e.ref_id || target.deleted) return;
    t.msgs.set(target.seq, e.message_type === "delete"
      ? { ...target, content: "", deleted: true }
      : { ...target, content: e.content, is_edited: true, edited_at: e.timestamp });
  }

  private advance(t: Thread) {
    while (t.msgs.has(t.lastSeq + 1)) t.lastSeq++;
  }

  isWatching(id: string) {
    return this.active === id && document.visibilityState === "visible";
  }

  /** Records that I read `id` up to `seq` (from here or another tab); true when it moved. */
  readUpTo(id: string, seq: number): boolean {
    const c = this.convs.get(id);
    if (!c || seq <= c.last_read_seq) return false;
    c.last_read_seq = seq;
    const t = this.threads.get(id);
    const unseen = t ? [...t.msgs.values()].filter((m) => m.seq > seq && m.sender_id !== this.me.id).length : 0;
    c.unread = Math.min(c.unread, unseen);
    this.emit({ type: "convs" });
    return true;
  }

  /** Sends the read marker for what is on screen (HTTP when the socket is down). */
  markRead(id: string, viaSocket: (frame: object) => boolean) {
    const c = this.convs.get(id);
    const t = this.threads.get(id);
    if (!c || !t || !this.readUpTo(id, t.lastSeq)) return;
    if (!viaSocket({ type: "read", conversation_id: id, seq: t.lastSeq })) void post("/chat/read", { conversation_id: id, seq: t.lastSeq }).catch(() => {});
  }

  setTyping(id: string, userId: string) {
    let m = this.typing.get(id);
    if (!m) this.typing.set(id, (m = new Map()));
    m.set(userId, Date.now() + 4000);
    this.emit({ type: "typing", id });
    setTimeout(() => this.emit({ type: "typing", id }), 4100);
  }

  clearTyping(id: string, userId: string) {
    if (this.typing.get(id)?.delete(userId)) this.emit({ type: "typing", id });
  }

  typists(id: string): string[] {
    const now = Date.now();
    return [...(this.typing.get(id) ?? new Map<string, number>()).entries()].filter(([, until]) => until > now).map(([u]) => this.nameOf(u));
  }

  /** A display name; unknown users are looked up once in the background. */
  nameOf(userId: string): string {
    const known = this.names.get(userId);
    if (known) return known;
    if (!this.lookups.has(userId)) {
      this.lookups.add(userId);
      void get<User>(`/users/${userId}`).then((u) => {
        this.names.set(u.id, u.display_name || u.username);
        this.emit({ type: "convs" });
        for (const id of this.threads.keys()) this.emit({ type: "thread", id });
      }).catch(() => {});
    }
    return "…";
  }

  totalUnread(): number {
    let n = 0;
    for (const c of this.convs.values()) n += c.unread;
    return n;
  }
}
