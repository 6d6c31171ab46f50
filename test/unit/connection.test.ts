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

  test("own sends are recognised once, so the broker's echo is not delivered twice", () => {
    const c = new Connection("c1", "u1", socket([]).raw, 1000);
    c.expectOwn("m1");
    expect(c.consumeOwn("m1")).toBe(true);
    expect(c.consumeOwn("m1")).toBe(false);
  });
});
