/**
 * One chat client per protocol, behind the same small interface, so the load
 * generator drives Huddle, the Socket.IO peer and the raw Bun.serve limit
 * identically. A message's content carries the generator's send time and the
 * sender's instance: `<ms>|<instance>|padding`, about 60 characters.
 */
import { io, type Socket } from "socket.io-client";

export type Target = "huddle" | "socketio" | "raw";
export type ClientSpec = { url: string; token?: string; room: string; inst: number };

export type Handlers = {
  /** A message from another client arrived: its content. */
  deliver(content: string): void;
  /** The server acknowledged this client's own send. */
  ack(content: string): void;
  error(code: string): void;
  closed(reason: string): void;
};

export interface ChatClient {
  /** Resolves when the session is usable (Huddle: the `ready` frame). */
  readonly ready: Promise<void>;
  send(content: string): void;
  /** Raw target only: a frame echoed straight back. */
  echo?(content: string): void;
  close(): void;
}

const PAD = "-lorem-ipsum-dolor-sit-amet-consectetur";
export const contentOf = (t: number, inst: number) => `${t.toFixed(3)}|${inst}|${PAD}`;

export function parseContent(c: string): { t: number; inst: number } {
  const a = c.indexOf("|");
  return { t: Number(c.slice(0, a)), inst: c.charCodeAt(a + 1) - 48 };
}

export function connect(target: Target, spec: ClientSpec, h: Handlers, id: number): ChatClient {
  if (target === "socketio") return socketIo(spec, h);
  return target === "huddle" ? huddle(spec, h, id) : raw(spec, h);
}

function opened(ws: WebSocket, until: (resolve: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.addEventListener("error", () => reject(new Error("websocket error")), { once: true });
    ws.addEventListener("close", (e) => reject(new Error(`closed ${e.code} ${e.reason}`)), { once: true });
    until(resolve);
  });
}

function huddle(spec: ClientSpec, h: Handlers, id: number): ChatClient {
  const ws = new WebSocket(`${spec.url}/chat/subscribe?token=${spec.token}`);
  let n = 0;
  let onReady: (() => void) | null = null;
  ws.addEventListener("message", (e) => {
    const f = JSON.parse(e.data as string);
    if (f.type === "message") {
      // Only the reply to one's own send carries a top-level client_id.
      if ("client_id" in f) h.ack(f.message.content);
      else h.deliver(f.message.content);
    } else if (f.type === "ready") onReady?.();
    else if (f.type === "error") h.error(String(f.code));
  });
  ws.addEventListener("close", (e) => h.closed(`${e.code}`));
  return {
    ready: opened(ws, (resolve) => (onReady = resolve)),
    send: (content) => ws.send(JSON.stringify({ type: "send", conversation_id: spec.room, content, client_id: `b${id}-${n++}` })),
    close: () => ws.close(),
  };
}

function raw(spec: ClientSpec, h: Handlers): ChatClient {
  const ws = new WebSocket(`${spec.url}/?room=${spec.room}`);
  // The raw server acknowledges with a bare "a": attributed to the last send (raw ack latency is not reported).
  let lastSent = "";
  ws.addEventListener("message", (e) => {
    const s = e.data as string;
    if (s === "a") h.ack(lastSent);
    else if (s.charCodeAt(0) === 101) h.ack(s.slice(1));
    else h.deliver(s);
  });
  ws.addEventListener("close", (e) => h.closed(`${e.code}`));
  return {
    ready: opened(ws, (resolve) => ws.addEventListener("open", () => resolve(), { once: true })),
    send: (content) => ws.send((lastSent = content)),
    echo: (content) => ws.send(`e${content}`),
    close: () => ws.close(),
  };
}

function socketIo(spec: ClientSpec, h: Handlers): ChatClient {
  const s: Socket = io(spec.url, { transports: ["websocket"], query: { room: spec.room }, reconnection: false, forceNew: true });
  s.on("message", (m: { content: string }) => h.deliver(m.content));
  s.on("disconnect", (reason) => h.closed(reason));
  return {
    ready: new Promise((resolve, reject) => {
      s.once("connect", () => resolve());
      s.once("connect_error", (err) => reject(err));
    }),
    send: (content) => void s.emit("send", { room: spec.room, content }, () => h.ack(content)),
    close: () => void s.close(),
  };
}
