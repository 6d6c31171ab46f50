/**
 * Shared pieces of the fault-injection tests (test/faults/README.md): polling
 * with a bound, reading /metrics, and a chat reader that follows the README's
 * socket protocol (resume after every reconnect and on a gap) while recording
 * exactly what the server sent, so a test can judge delivery, not just state.
 */
import { json } from "../helpers/process";

/** Polls `check` until it returns something truthy; throws naming `what` after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, ms: number, everyMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
    await Bun.sleep(everyMs);
  }
}

/** One sample from /metrics, e.g. metric(base, "huddle_actor_restarts", { actor: "root/canary" }). */
export async function metric(base: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelPart = line.slice(name.length).match(/^\{(.*)\}/)?.[1] ?? "";
    if (want.every((w) => labelPart.split(",").includes(w))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

export async function createRoom(base: string, token: string, name: string, members: string[]): Promise<string> {
  const res = await json(base, "POST", "/rooms", { name, members }, token);
  if (res.status !== 201) throw new Error(`room not created: ${res.status} ${res.text}`);
  return res.json.id as string;
}

type Received = { seq: number; id: string; resumed: boolean };
type Session = { frames: Map<string, Received[]>; closed: { code: number; reason: string } | null };

/**
 * A user's socket following some conversations, as a careful client: keeps
 * the highest contiguous seq per conversation, sends `resume` after every
 * (re)connect and when it sees a gap, ignores what it already has. It records
 * every frame per session so tests can check what the server actually sent.
 */
export class ChatReader {
  readonly last = new Map<string, number>();
  /** Accepted message ids in seq order (index seq - 1). */
  readonly accepted = new Map<string, string[]>();
  readonly sessions: Session[] = [];
  /** Frames for a seq the reader already had with a different message id: never allowed. */
  readonly conflicts: string[] = [];
  resumesSent = 0;
  gapsSeen = 0;
  duplicatesSeen = 0;
  private ws: WebSocket | null = null;
  private resumeAskedAt = new Map<string, number>();

  constructor(readonly name: string, readonly token: string, readonly conversations: string[]) {
    for (const c of conversations) {
      this.last.set(c, 0);
      this.accepted.set(c, []);
    }
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Opens a socket; resolves after `ready` once a resume went out for every conversation. */
  connect(wsBase: string, timeoutMs = 5000): Promise<void> {
    const session: Session = { frames: new Map(this.conversations.map((c) => [c, []])), closed: null };
    this.sessions.push(session);
    const ws = new WebSocket(`${wsBase}/chat/subscribe?token=${this.token}`);
    this.ws = ws;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ready frame in ${timeoutMs} ms`)), timeoutMs);
      ws.addEventListener("message", (e) => {
        const f = JSON.parse(String(e.data));
        if (f.type === "ready") {
          clearTimeout(timer);
          for (const c of this.conversations) this.resume(c, true);
          resolve();
        } else if (f.type === "message") this.onMessage(session, f);
      });
      ws.addEventListener("close", (e) => {
        clearTimeout(timer);
        session.closed = { code: e.code, reason: e.reason };
        reject(new Error(`${this.name}: closed ${e.code} ${e.reason}`));
      });
    });
  }

  close() {
    this.ws?.close();
  }

  /** True once every conversation reached `target(c)`. */
  caughtUp(target: (c: string) => number): boolean {
    return this.conversations.every((c) => this.last.get(c)! >= target(c));
  }

  private resume(c: string, force = false) {
    const now = Date.now();
    // One request at a time: a replay may take a while and live frames keep showing the same gap meanwhile.
    if (!force && now - (this.resumeAskedAt.get(c) ?? 0) < 3000) return;
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    this.resumeAskedAt.set(c, now);
    this.resumesSent++;
    this.ws.send(JSON.stringify({ type: "resume", conversation_id: c, after_seq: this.last.get(c)! }));
  }

  private onMessage(session: Session, f: { message: { conversation_id: string; seq: number; id: string }; resumed?: boolean }) {
    const c = f.message.conversation_id;
    const frames = session.frames.get(c);
    if (!frames) return;
    const { seq, id } = f.message;
    frames.push({ seq, id, resumed: f.resumed === true });
    const last = this.last.get(c)!;
    const ids = this.accepted.get(c)!;
    if (seq <= last) {
      this.duplicatesSeen++;
      if (ids[seq - 1] !== id) this.conflicts.push(`${this.name} ${c} seq ${seq}: ${ids[seq - 1]} then ${id}`);
    } else if (seq === last + 1) {
      ids.push(id);
      this.last.set(c, seq);
      if (f.resumed) this.resumeAskedAt.delete(c); // the replay arrived: a later gap may ask again at once
    } else {
      this.gapsSeen++;
      this.resume(c);
    }
  }

  /**
   * What the server sent on each socket, judged per conversation: every
   * replay (a run of `resumed` frames) is consecutive, and from the first
   * replayed frame on, the socket got each later seq exactly once and in order.
   * Before that point a socket may see live frames that the replay repeats
   * (they raced the resume request), which a client drops by seq.
   */
  deliveryProblems(): string[] {
    const problems: string[] = [];
    this.sessions.forEach((s, i) => {
      for (const [c, frames] of s.frames) {
        const start = frames.findIndex((f) => f.resumed);
        const tail = start < 0 ? frames : frames.slice(start);
        for (let k = 1; k < tail.length; k++) {
          if (tail[k]!.seq !== tail[k - 1]!.seq + 1) {
            problems.push(`${this.name} session ${i} ${c.slice(-6)}: seq ${tail[k - 1]!.seq} followed by ${tail[k]!.seq}${tail[k]!.resumed ? " (resumed)" : ""}`);
            break;
          }
        }
      }
    });
    return problems;
  }
}
