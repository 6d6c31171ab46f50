/**
 * A socket whose reader cannot keep up is closed with a reason telling it to
 * resume; frames are never dropped silently. Bun's ServerWebSocket.send
 * returns 0 when it dropped a frame past backpressureLimit, -1 when it queued it.
 */
import { describe, expect, test } from "bun:test";
import { CLOSE, Connection, type RawSocket } from "../../src/modules/chat/connection";

function socket(results: number[], buffered = () => 0) {
  const sent: string[] = [];
  const closes: { code?: number; reason?: string }[] = [];
  const raw: RawSocket = {
    send: (d) => (sent.push(d), results.shift() ?? d.length),
    close: (code, reason) => void closes.push({ code, reason }),
    getBufferedAmount: buffered,
  };
  return { raw, sent, closes };
}

describe("Connection backpressure", () => {
  test("a dropped frame closes the socket with 4008 and later frames are not sent", () => {
    const s = socket([10, 0]);
    const c = new Connection("c1", "u1", s.raw, 1024);
    c.send({ type: "message", n: 1 });
    c.send({ type: "message", n: 2 });
    c.send({ type: "message", n: 3 });
    expect(s.sent).toHaveLength(2);
    expect(s.closes).toEqual([{ code: CLOSE.slowConsumer.code, reason: CLOSE.slowConsumer.reason }]);
    expect(CLOSE.slowConsumer.reason).toContain("resume");
  });

  test("a send buffer past the bound closes the socket even while Bun still queues", () => {
    let buffered = 0;
    const s = socket([-1, -1, -1], () => buffered);
    const c = new Connection("c1", "u1", s.raw, 1000);
    c.sendRaw("a");
    expect(s.closes).toHaveLength(0);
    buffered = 2000;
    c.sendRaw("b");
    expect(s.closes).toHaveLength(1);
    expect(c.closed).toBe(true);
  });

  test("a buffer past the bound found after a topic publish closes the socket with 4008", () => {
    let buffered = 0;
    const s = socket([], () => buffered);
    const c = new Connection("c1", "u1", s.raw, 1000);
    c.checkBackpressure();
    expect(s.closes).toHaveLength(0);
    buffered = 1001;
    c.checkBackpressure();
    expect(s.closes).toEqual([{ code: CLOSE.slowConsumer.code, reason: CLOSE.slowConsumer.reason }]);
  });
});

describe("Connection ordering around resume and setup", () => {
  const frame = (seq: number) => JSON.stringify({ type: "message", message: { conversation_id: "c", seq } });
  const seqs = (sent: string[]) => sent.map((d) => JSON.parse(d)).filter((f) => f.type === "message").map((f) => f.message.seq);

  test("live frames racing a replay wait for it, and the ones it repeats are dropped", () => {
    const s = socket([]);
    const c = new Connection("c1", "u1", s.raw, 1 << 20);
    c.sendMessage("c", 10, frame(10)); // sent before the resume arrived: the client ignores it
    c.beginReplay("c");
    c.sendMessage("c", 10, frame(10));
    c.endReplay("c", { afterSeq: 8, messages: [9, 10, 11].map((seq) => ({ conversation_id: "c", seq })) });
    c.sendMessage("c", 11, frame(11)); // a late copy of a replayed message
    c.sendMessage("c", 12, frame(12));
    c.sendMessage("c", 13, frame(13));
    expect(seqs(s.sent)).toEqual([10, 9, 10, 11, 12, 13]);
    expect(s.sent.slice(1, 4).every((d) => JSON.parse(d).resumed === true)).toBe(true);
  });

  test("a failed resume releases the held frames as they are", () => {
    const s = socket([]);
    const c = new Connection("c1", "u1", s.raw, 1 << 20);
    c.beginReplay("c");
    c.sendMessage("c", 5, frame(5));
    expect(s.sent).toEqual([]);
    c.endReplay("c");
    expect(seqs(s.sent)).toEqual([5]);
  });

  test("nothing goes out before ready, and ready goes first", () => {
    const s = socket([]);
    const c = new Connection("c1", "u1", s.raw, 1 << 20);
    c.holdUntilReady();
    c.sendMessage("c", 1, frame(1));
    c.sendRaw(JSON.stringify({ type: "presence" }));
    expect(s.sent).toEqual([]);
    c.ready({ type: "ready" });
    expect(s.sent.map((d) => JSON.parse(d).type)).toEqual(["ready", "message", "presence"]);
  });

  test("sendOnce drops a frame identical to the last one under its key", () => {
    const s = socket([]);
    const c = new Connection("c1", "u1", s.raw, 1 << 20);
    c.sendOnce("presence:u2", "on");
    c.sendOnce("presence:u2", "on");
    c.sendOnce("presence:u3", "on");
    c.sendOnce("presence:u2", "off");
    expect(s.sent).toEqual(["on", "on", "off"]);
  });
});
