/**
 * The engine contract: every guarantee written in src/engine/types.ts, run
 * against any implementation. memory.test.ts and redis.test.ts call it.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { RateLimitedError, SeqMissingError, type ChatMessage, type Engine, type NewMessage } from "../../../src/engine";
import { chatChannel } from "../../../src/engine/names";
import { queueContract } from "./queue.contract";

export type EngineHarness = {
  /** A fresh engine on an empty store. */
  create(): Promise<Engine>;
  /** Another instance on the same store (the memory engine returns `engine` itself). */
  peer(engine: Engine): Promise<Engine>;
  /** A Redis Cluster queues a retried message in the outbox again (see ChatStore.append). */
  requeuesDuplicates?: boolean;
};

const uid = () => Bun.randomUUIDv7();

export function newMessage(conversationId: string, senderId: string, over: Partial<NewMessage> = {}): NewMessage {
  return {
    id: uid(), conversation_id: conversationId, sender_id: senderId, receiver_id: null,
    content: "hello", message_type: "text", client_id: null, timestamp: new Date().toISOString(), ...over,
  };
}

/** Collects payloads published on a channel. */
async function listen(engine: Engine, channel: string) {
  const got: string[] = [];
  const stop = await engine.broker.subscribe(channel, (p) => got.push(p));
  return { got, stop };
}

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

export function engineContract(harness: EngineHarness): void {
  let engine: Engine;
  const extra: Engine[] = [];
  beforeEach(async () => {
    engine = await harness.create();
  });
  afterEach(async () => {
    for (const e of extra.splice(0)) await e.close();
    await engine.close();
  });
  const peer = async () => {
    const p = await harness.peer(engine);
    if (p !== engine) extra.push(p);
    return p;
  };

  describe("chat store", () => {
    test("append takes the sender's send token: refused appends write nothing, retries take none", async () => {
      const [cid, sender] = [uid(), uid()];
      await engine.chat.seedSeq(cid, 0);
      const limit = { scope: "send", id: sender, rule: { capacity: 2, refillPerSec: 0.01 } };
      const { got, stop } = await listen(engine, chatChannel(cid));
      const first = await engine.chat.append(newMessage(cid, sender, { client_id: "a" }), { limit });
      expect((await engine.chat.append(newMessage(cid, sender, { client_id: "a" }), { limit })).duplicate).toBe(true);
      await engine.chat.append(newMessage(cid, sender), { limit });
      const err = await engine.chat.append(newMessage(cid, sender), { limit }).catch((e) => e);
      expect(err).toBeInstanceOf(RateLimitedError);
      expect((err as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
      // Another sender's bucket is untouched, and the refused message left no trace.
      const other = await engine.chat.append(newMessage(cid, uid()), { limit: { ...limit, id: uid() } });
      expect(other.message.seq).toBe(3);
      expect((await engine.chat.recent(cid))!.map((m) => m.seq)).toEqual([1, 2, 3]);
      await until(() => got.length === 3);
      expect(JSON.parse(got[0]!).message).toEqual(first.message);
      // The bucket is the rate limiter's own: it is empty there too.
      expect((await engine.rateLimiter.take("send", sender, limit.rule)).allowed).toBe(false);
      await stop();
    });

    test("append refuses with SeqMissingError until the counter is seeded", async () => {
      const cid = uid();
      const err = await engine.chat.append(newMessage(cid, uid())).catch((e) => e);
      expect(err).toBeInstanceOf(SeqMissingError);
      expect(await engine.chat.recent(cid)).toBeNull();
      expect(await engine.outbox.pending()).toBe(0);
      await engine.chat.seedSeq(cid, 41);
      const { message, duplicate } = await engine.chat.append(newMessage(cid, uid(), { content: "first" }));
      expect(duplicate).toBe(false);
      expect(message.seq).toBe(42);
      expect(message.content).toBe("first");
    });

    test("seedSeq raises the counter but never lowers it", async () => {
      const cid = uid();
      await engine.chat.seedSeq(cid, 5);
      await engine.chat.seedSeq(cid, 3);
      expect((await engine.chat.append(newMessage(cid, uid()))).message.seq).toBe(6);
      await engine.chat.seedSeq(cid, 10);
      expect((await engine.chat.append(newMessage(cid, uid()))).message.seq).toBe(11);
    });

    test("120 concurrent appends from several instances: gapless seqs, list holds exactly the last 50 in order", async () => {
      const cid = uid();
      await engine.chat.seedSeq(cid, 0);
      const instances = [engine, await peer(), await peer()];
      const senders = Array.from({ length: 6 }, uid);
      const results = await Promise.all(
        Array.from({ length: 120 }, (_, i) =>
          instances[i % 3]!.chat.append(newMessage(cid, senders[i % 6]!, { content: `m${i}` })),
        ),
      );
      const seqs = results.map((r) => r.message.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      const recent = (await engine.chat.recent(cid))!;
      expect(recent.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 71));
      const bySeq = new Map(results.map((r) => [r.message.seq, r.message]));
      for (const m of recent) expect(m).toEqual(bySeq.get(m.seq)!);
      expect(await engine.outbox.pending()).toBe(120);
    });

    test("a retry with the same client_id returns the first message and stores nothing new", async () => {
      const cid = uid();
      const sender = uid();
      await engine.chat.seedSeq(cid, 0);
      const { got, stop } = await listen(engine, chatChannel(cid));
      const first = await engine.chat.append(newMessage(cid, sender, { client_id: "c-1", content: "once" }));
      const retry = await engine.chat.append(newMessage(cid, sender, { client_id: "c-1", content: "twice" }));
      expect(retry.duplicate).toBe(true);
      expect(retry.message).toEqual(first.message);
      expect(await engine.outbox.pending()).toBe(harness.requeuesDuplicates ? 2 : 1);
      expect((await engine.chat.recent(cid))!.length).toBe(1);
      // Same client_id from another sender is another message.
      const other = await engine.chat.append(newMessage(cid, uid(), { client_id: "c-1" }));
      expect(other.duplicate).toBe(false);
      expect(other.message.seq).toBe(2);
      await until(() => got.length >= 2);
      await Bun.sleep(20);
      expect(got.length).toBe(2);
      await stop();
    });

    test("append publishes the stored message on chat:{id}", async () => {
      const cid = uid();
      await engine.chat.seedSeq(cid, 0);
      const { got, stop } = await listen(engine, chatChannel(cid));
      const input = newMessage(cid, uid(), { receiver_id: uid(), content: 'quote " slash \\ ünï 😀', client_id: "x" });
      const { message } = await engine.chat.append(input);
      expect(message).toEqual({ ...input, seq: 1 });
      await until(() => got.length === 1);
      expect(JSON.parse(got[0]!)).toEqual({ type: "message", message });
      await stop();
    });

    test("refill fills only a missing cache that is not behind the counter, keeping the last 50", async () => {
      const cid = uid();
      const history: ChatMessage[] = Array.from({ length: 60 }, (_, i) => ({ ...newMessage(cid, uid()), seq: i + 1 }));
      expect(await engine.chat.refill(cid, [])).toBe(false);
      await engine.chat.seedSeq(cid, 61);
      expect(await engine.chat.refill(cid, history)).toBe(false); // seq 61 was allocated after this history
      expect(await engine.chat.recent(cid)).toBeNull();
      const cid2 = uid();
      await engine.chat.seedSeq(cid2, 60);
      const h2 = history.map((m) => ({ ...m, conversation_id: cid2 }));
      expect(await engine.chat.refill(cid2, h2)).toBe(true);
      expect(await engine.chat.recent(cid2)).toEqual(h2.slice(10));
      expect(await engine.chat.refill(cid2, h2.slice(0, 5))).toBe(false); // never clobbers
      const { message } = await engine.chat.append(newMessage(cid2, uid()));
      expect(message.seq).toBe(61);
      const after = (await engine.chat.recent(cid2))!;
      expect(after.length).toBe(50);
      expect(after.at(-1)).toEqual(message);
    });

    test("optional fields travel as given; replaceRecent swaps only entries still as read; drop forgets the list and counter", async () => {
      const cid = uid();
      await engine.chat.seedSeq(cid, 0);
      const first = (await engine.chat.append(newMessage(cid, uid(), { content: "tpyo" }))).message;
      const edit = (await engine.chat.append(newMessage(cid, uid(), { message_type: "edit", content: "typo", ref_id: first.id, ref_seq: first.seq }))).message;
      expect(edit).toMatchObject({ seq: 2, message_type: "edit", ref_id: first.id, ref_seq: 1 });
      expect(Object.keys(first)).not.toContain("ref_id");
      const [a, b] = (await engine.chat.recent(cid))!;
      expect(b).toEqual(edit);
      const edited = { ...a!, content: "typo", is_edited: true, edited_at: edit.timestamp };
      expect(await engine.chat.replaceRecent(cid, [{ from: a!, to: edited }])).toBe(1);
      // A second writer that read the old entry changes nothing: its `from` is gone.
      expect(await engine.chat.replaceRecent(cid, [{ from: a!, to: { ...a!, content: "stale" } }])).toBe(0);
      expect((await engine.chat.recent(cid))!.map((m) => m.content)).toEqual(["typo", "typo"]);
      expect((await engine.chat.recent(cid))![0]).toEqual(edited);
      expect(await engine.chat.replaceRecent(uid(), [{ from: a!, to: edited }])).toBe(0);
      // The idempotency record of a deleted message: a retry gets the tombstone.
      const sent = (await engine.chat.append(newMessage(cid, uid(), { client_id: "k1", content: "regret" }))).message;
      await engine.chat.redactSent({ ...sent, content: "", deleted: true });
      const retry = await engine.chat.append({ ...newMessage(cid, sent.sender_id, { client_id: "k1", content: "regret" }) });
      expect(retry).toEqual({ message: { ...sent, content: "", deleted: true }, duplicate: true });
      await engine.chat.redactSent({ ...sent, client_id: "never-sent" });
      expect((await engine.chat.append(newMessage(cid, sent.sender_id, { client_id: "never-sent" }))).duplicate).toBe(false);
      await engine.chat.drop(cid);
      expect(await engine.chat.recent(cid)).toBeNull();
      await expect(engine.chat.append(newMessage(cid, uid()))).rejects.toBeInstanceOf(SeqMissingError);
    });

    test("membership sets", async () => {
      const [a, b, c1, c2] = [uid(), uid(), uid(), uid()];
      await engine.chat.addMember(c1, [a, b]);
      await engine.chat.addMember(c2, [a]);
      expect((await engine.chat.conversationsOf(a)).sort()).toEqual([c1, c2].sort());
      await engine.chat.removeMember(c1, a);
      expect(await engine.chat.conversationsOf(a)).toEqual([c2]);
      expect(await engine.chat.conversationsOf(b)).toEqual([c1]);
      expect(await engine.chat.conversationsOf(uid())).toEqual([]);
    });
  });

  describe("dead letters", () => {
    test("kept in order with their reason until removed; the outbox's age of the oldest entry", async () => {
      const before = await engine.deadLetters.count();
      const m1 = { ...newMessage(uid(), uid()), seq: 1 };
      const m2 = { ...newMessage(uid(), uid()), seq: 7 };
      await engine.deadLetters.add(m1, "23503: no such conversation");
      await engine.deadLetters.add(m2, "22001: value too long");
      expect(await engine.deadLetters.count()).toBe(before + 2);
      const mine = (await engine.deadLetters.list(1000)).filter((l) => l.message.id === m1.id || l.message.id === m2.id);
      expect(mine.map((l) => [l.message, l.reason])).toEqual([[m1, "23503: no such conversation"], [m2, "22001: value too long"]]);
      expect(Date.parse(mine[0]!.at)).toBeGreaterThan(Date.now() - 60_000);
      await engine.deadLetters.remove([mine[0]!.id]);
      await engine.deadLetters.remove([]);
      expect((await engine.deadLetters.list(1000)).some((l) => l.message.id === m1.id)).toBe(false);
      expect(await engine.deadLetters.count()).toBe(before + 1);
      await engine.deadLetters.remove([mine[1]!.id]);
    });
  });

  describe("outbox", () => {
    test("oldestAgeMs: null when empty, else the age of the oldest unacknowledged entry", async () => {
      await engine.outbox.ensureGroup();
      const drain = async () => {
        for (let e = await engine.outbox.read("age", 1000, 0); e.length; e = await engine.outbox.read("age", 1000, 0)) await engine.outbox.ack(e.map((x) => x.id));
        await engine.outbox.ack((await engine.outbox.claimStale("age", 0, 1000)).map((x) => x.id));
      };
      await drain();
      expect(await engine.outbox.oldestAgeMs(Date.now())).toBeNull();
      const cid = uid();
      await engine.chat.seedSeq(cid, 0);
      await engine.chat.append(newMessage(cid, uid()));
      const age = (await engine.outbox.oldestAgeMs(Date.now() + 5_000))!;
      expect(age).toBeGreaterThanOrEqual(4_900);
      expect(age).toBeLessThan(10_000);
      await drain();
    });

    test("read delivers each entry once, claimStale recovers a dead consumer's, ack removes", async () => {
      await engine.outbox.ensureGroup();
      await engine.outbox.ensureGroup(); // idempotent
      const cid = uid();
      await engine.chat.seedSeq(cid, 0);
      const sent = [];
      for (let i = 0; i < 3; i++) sent.push((await engine.chat.append(newMessage(cid, uid()))).message);
      const first = await engine.outbox.read("c1", 10, 100);
      expect(first.map((e) => e.message)).toEqual(sent);
      expect(await engine.outbox.read("c2", 10, 50)).toEqual([]);
      expect(await engine.outbox.pending()).toBe(3);
      expect(await engine.outbox.claimStale("c2", 60_000, 10)).toEqual([]); // not idle long enough
      await Bun.sleep(30);
      const claimed = await engine.outbox.claimStale("c2", 20, 10);
      expect(claimed.map((e) => e.id)).toEqual(first.map((e) => e.id));
      await engine.outbox.ack([first[0]!.id, first[1]!.id]);
      expect(await engine.outbox.pending()).toBe(1);
      const rest = await engine.outbox.claimStale("c3", 0, 10);
      expect(rest.map((e) => e.message.seq)).toEqual([3]);
      await engine.outbox.ack([rest[0]!.id, "1-1"]);
      expect(await engine.outbox.pending()).toBe(0);
      expect(await engine.outbox.claimStale("c3", 0, 10)).toEqual([]);
    });

    test("a blocked read wakes up when a message is appended", async () => {
      await engine.outbox.ensureGroup();
      const cid = uid();
      await engine.chat.seedSeq(cid, 0);
      const started = Date.now();
      const reading = engine.outbox.read("waiter", 10, 3000);
      await Bun.sleep(50);
      const { message } = await engine.chat.append(newMessage(cid, uid()));
      const entries = await reading;
      expect(entries.map((e) => e.message)).toEqual([message]);
      expect(Date.now() - started).toBeLessThan(1500);
    });

    test("unpersisted lists one conversation's waiting messages after a seq, until they are acknowledged", async () => {
      await engine.outbox.ensureGroup();
      const [cid, other] = [uid(), uid()];
      await engine.chat.seedSeq(cid, 0);
      await engine.chat.seedSeq(other, 0);
      const mine = [];
      for (let i = 0; i < 4; i++) {
        mine.push((await engine.chat.append(newMessage(cid, uid()))).message);
        await engine.chat.append(newMessage(other, uid()));
      }
      expect(await engine.outbox.unpersisted(cid, 1, 10)).toEqual(mine.slice(1));
      expect(await engine.outbox.unpersisted(cid, 0, 2)).toEqual(mine.slice(0, 2));
      const delivered = await engine.outbox.read("p", 100, 100);
      expect(await engine.outbox.unpersisted(cid, 0, 10)).toEqual(mine); // read but not acknowledged: still waiting
      await engine.outbox.ack(delivered.filter((e) => e.message.conversation_id === cid && e.message.seq <= 2).map((e) => e.id));
      expect(await engine.outbox.unpersisted(cid, 0, 10)).toEqual(mine.slice(2));
      expect(await engine.outbox.unpersisted(uid(), 0, 10)).toEqual([]);
    });
  });

  describe("broker", () => {
    test("many handlers per channel, unsubscribe one by one, a throwing handler is isolated", async () => {
      const ch = `test:${uid()}`;
      const a: string[] = [];
      const b: string[] = [];
      const stopBad = await engine.broker.subscribe(ch, () => {
        throw new Error("faulty handler");
      });
      const stopA = await engine.broker.subscribe(ch, (p) => a.push(p));
      const stopB = await engine.broker.subscribe(ch, (p) => b.push(p));
      expect(engine.broker.channels()).toContain(ch);
      await engine.broker.publish(ch, "one");
      await until(() => a.length === 1 && b.length === 1);
      await stopA();
      await stopA(); // idempotent
      await engine.broker.publish(ch, "two");
      await until(() => b.length === 2);
      expect(a).toEqual(["one"]);
      expect(b).toEqual(["one", "two"]);
      await stopB();
      await stopBad();
      expect(engine.broker.channels()).not.toContain(ch);
      await engine.broker.publish(ch, "three");
      await Bun.sleep(50);
      expect(b).toEqual(["one", "two"]);
    });

    test("a publish from another instance reaches this one", async () => {
      const ch = `test:${uid()}`;
      const { got, stop } = await listen(engine, ch);
      await (await peer()).broker.publish(ch, "hi");
      await until(() => got.length === 1);
      expect(got).toEqual(["hi"]);
      await stop();
    });
  });

  test("presence and cached results expire after their TTL", async () => {
    const [a, b, c] = [uid(), uid(), uid()];
    await engine.presence.setOnline(a, 1);
    await engine.presence.setOnline(b, 60);
    await engine.presence.setOnline(c, 60);
    await engine.presence.setOffline(c);
    expect(await engine.presence.online([a, b, c, uid()])).toEqual(new Set([a, b]));
    expect(await engine.presence.online([])).toEqual(new Set());
    const job = uid();
    await engine.results.set(job, '{"verdict":"accepted"}', 1);
    expect(await engine.results.get(job)).toBe('{"verdict":"accepted"}');
    expect(await engine.results.get(uid())).toBeNull();
    await Bun.sleep(1100);
    expect(await engine.presence.online([a, b])).toEqual(new Set([b]));
    expect(await engine.results.get(job)).toBeNull();
  });

  test("rate limiter allows the capacity, then refuses with a retry delay", async () => {
    const rule = { capacity: 3, refillPerSec: 1 };
    const id = uid();
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await engine.rateLimiter.take("send", id, rule));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    expect(decisions[3]!.retryAfterMs).toBeGreaterThan(500);
    expect(decisions[3]!.retryAfterMs).toBeLessThanOrEqual(1000);
    expect((await engine.rateLimiter.take("send", uid(), rule)).allowed).toBe(true); // other id
    expect((await engine.rateLimiter.take("other", id, rule)).allowed).toBe(true); // other scope
    const fast = { capacity: 1, refillPerSec: 4 };
    expect((await engine.rateLimiter.take("fast", id, fast)).allowed).toBe(true);
    const refused = await engine.rateLimiter.take("fast", id, fast);
    expect(refused.allowed).toBe(false);
    await Bun.sleep(refused.retryAfterMs + 10);
    expect((await engine.rateLimiter.take("fast", id, fast)).allowed).toBe(true);
    await expect(engine.rateLimiter.take("send", id, { capacity: 2, refillPerSec: 1, cost: 3 })).rejects.toThrow(RangeError);
  });

  test("rate limiter refund gives a token back, never above capacity", async () => {
    const rule = { capacity: 2, refillPerSec: 0.001 };
    const id = uid();
    await engine.rateLimiter.refund("login", id, rule); // no bucket yet: stays full, not 3
    for (let i = 0; i < 2; i++) expect((await engine.rateLimiter.take("login", id, rule)).allowed).toBe(true);
    expect((await engine.rateLimiter.take("login", id, rule)).allowed).toBe(false);
    await engine.rateLimiter.refund("login", id, rule);
    expect((await engine.rateLimiter.take("login", id, rule)).allowed).toBe(true);
    expect((await engine.rateLimiter.take("login", id, rule)).allowed).toBe(false);
    for (let i = 0; i < 5; i++) await engine.rateLimiter.refund("login", id, rule);
    const decisions = [];
    for (let i = 0; i < 3; i++) decisions.push((await engine.rateLimiter.take("login", id, rule)).allowed);
    expect(decisions).toEqual([true, true, false]);
  });

  queueContract(() => engine);

  test("close is idempotent", async () => {
    const e = await harness.create();
    const first = e.close();
    expect(e.close()).toBe(first);
    await first;
  });
}
