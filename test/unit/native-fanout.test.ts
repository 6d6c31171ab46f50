/**
 * The native fan-out over an in-memory stand-in for Bun's topics (the real
 * thing runs in test/integration/chat): one publish per event, the sender's
 * socket skipped for its own message, sockets off the topic (before ready,
 * replaying) served one by one in order, membership changes leave the topic.
 */
import { describe, expect, test } from "bun:test";
import { Connection, type RawSocket } from "../../src/modules/chat/connection";
import { NativeFanOut } from "../../src/modules/chat/fanout";

function topics() {
  const subs = new Map<string, Set<Sock>>();
  let publishes = 0;
  class Sock implements RawSocket {
    readonly got: string[] = [];
    readonly closes: number[] = [];
    buffered = 0;
    send(d: string) { this.got.push(d); return d.length; }
    close(code?: number) { this.closes.push(code ?? 0); }
    getBufferedAmount() { return this.buffered; }
    subscribe(t: string) { if (!subs.has(t)) subs.set(t, new Set()); subs.get(t)!.add(this); }
    unsubscribe(t: string) { subs.get(t)?.delete(this); }
    publish(t: string, d: string) { publishes++; for (const s of subs.get(t) ?? []) if (s !== this) s.send(d); return d.length; }
  }
  const server = { publish: (t: string, d: string) => { publishes++; for (const s of subs.get(t) ?? []) s.send(d); return d.length; } };
  return { Sock, server, publishes: () => publishes };
}

const msg = (seq: number, id = `m${seq}`) => JSON.stringify({ type: "message", message: { id, conversation_id: "c", seq } });
const seqs = (got: string[]) => got.map((d) => JSON.parse(d)).filter((f) => f.type === "message").map((f) => f.message.seq);

function setup(n: number) {
  const t = topics();
  const fan = new NativeFanOut();
  fan.bind(t.server);
  const followers = new Map<string, Connection>();
  const socks = Array.from({ length: n }, (_, i) => {
    const sock = new t.Sock();
    const conn = new Connection(`s${i}`, `u${i}`, sock, 1 << 20);
    conn.follow("c");
    followers.set(conn.id, conn);
    return { sock, conn };
  });
  return { t, fan, followers, socks, deliver: (payload: string) => fan.deliver("c", payload, followers) };
}

describe("native fan-out", () => {
  test("one publish per event reaches every follower once, in order", () => {
    const { t, socks, deliver } = setup(5);
    for (let seq = 1; seq <= 3; seq++) deliver(msg(seq));
    expect(t.publishes()).toBe(3);
    for (const { sock } of socks) expect(seqs(sock.got)).toEqual([1, 2, 3]);
  });

  test("the sender's socket does not get its own message back; typing carries the sender", () => {
    const { fan, socks, deliver } = setup(3);
    fan.expectOwn("mine", socks[0]!.conn);
    deliver(msg(1, "mine"));
    deliver(JSON.stringify({ type: "typing", conversation_id: "c", user_id: "u0" }));
    expect(seqs(socks[0]!.sock.got)).toEqual([]);
    expect(seqs(socks[1]!.sock.got)).toEqual([1]);
    expect(JSON.parse(socks[0]!.sock.got[0]!)).toMatchObject({ type: "typing", user_id: "u0" });
  });

  test("presence skips its own user and reaches a socket once", () => {
    const { socks, deliver } = setup(2);
    const presence = JSON.stringify({ type: "presence", user_id: "u0", online: true, last_active: null });
    deliver(presence);
    deliver(presence);
    expect(socks[0]!.sock.got).toEqual([]);
    expect(socks[1]!.sock.got).toEqual([presence]);
  });

  test("a socket that unfollows hears nothing more at once", () => {
    const { socks, deliver } = setup(2);
    deliver(msg(1));
    socks[1]!.conn.unfollow("c");
    deliver(msg(2));
    expect(seqs(socks[1]!.sock.got)).toEqual([1]);
    expect(seqs(socks[0]!.sock.got)).toEqual([1, 2]);
  });

  test("before ready, frames wait and ready goes first; then the topic takes over", () => {
    const { socks, deliver } = setup(1);
    const { sock, conn } = socks[0]!;
    conn.holdUntilReady();
    conn.unfollow("c");
    conn.follow("c");
    deliver(msg(1));
    expect(sock.got).toEqual([]);
    conn.ready({ type: "ready" });
    deliver(msg(2));
    expect(sock.got.map((d) => JSON.parse(d).type)).toEqual(["ready", "message", "message"]);
    expect(seqs(sock.got)).toEqual([1, 2]);
  });

  test("a replay gets no live frame in between, and no repeat after it, however the live ones race it", () => {
    const { socks, deliver } = setup(2);
    const { sock, conn } = socks[0]!;
    deliver(msg(10));
    conn.beginReplay("c");
    deliver(msg(11));
    deliver(msg(12));
    conn.endReplay("c", { afterSeq: 10, messages: [11, 12, 13].map((seq) => ({ conversation_id: "c", seq })) });
    deliver(msg(13)); // a late copy of a replayed message
    deliver(msg(14));
    deliver(msg(15));
    expect(seqs(sock.got)).toEqual([10, 11, 12, 13, 14, 15]);
    expect(seqs(socks[1]!.sock.got)).toEqual([10, 11, 12, 13, 14, 15]);
  });

  test("a reader falling behind on the topic is closed with 4008 after a publish, not skipped silently", async () => {
    const { socks, deliver } = setup(2);
    deliver(msg(1));
    socks[1]!.sock.buffered = 2 << 20; // more than the socket's 1 MiB bound
    await Bun.sleep(30); // checks run at most every 25 ms per conversation
    deliver(msg(2));
    expect(socks[1]!.sock.closes).toEqual([4008]);
    expect(socks[1]!.conn.closed).toBe(true);
    expect(socks[0]!.sock.closes).toEqual([]);
  });
});
