import { describe, expect, test } from "bun:test";
import {
  Actor,
  actorOf,
  ActorStoppedError,
  AskTimeoutError,
  MailboxFullError,
  type Exit,
} from "../../../actors/kernel/index";
import { gate, sleep, waitFor } from "./helpers";

type Msg = { op: "work"; id: number; ms?: number } | { op: "fail"; why: string } | { op: "echo"; value: unknown };

/** Records what it handles and how many handlers ever overlapped. */
class Probe extends Actor<Msg> {
  handled: number[] = [];
  running = 0;
  maxRunning = 0;
  events: string[] = [];

  protected override async onStart() {
    this.events.push("start");
  }

  protected override onStop(exit: Exit) {
    this.events.push(`stop:${exit.kind}`);
  }

  protected async handle(msg: Msg): Promise<unknown> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (msg.op === "fail") throw new Error(msg.why);
      if (msg.op === "echo") return msg.value;
      await sleep(msg.ms ?? 0);
      this.handled.push(msg.id);
      return msg.id * 10;
    } finally {
      this.running--;
    }
  }
}

async function started(options: ConstructorParameters<typeof Probe>[0] = { name: "probe" }) {
  const probe = new Probe(options);
  await probe.start();
  return probe;
}

describe("Actor messages", () => {
  test("concurrent tells are handled one at a time, in order", async () => {
    const probe = await started();
    const ids = Array.from({ length: 20 }, (_, i) => i);
    // Random per-message durations: a concurrent drain would finish out of order.
    for (const id of ids) probe.tell({ op: "work", id, ms: (id * 7) % 5 });
    await waitFor(() => probe.handled.length === ids.length, "all messages");
    expect(probe.handled).toEqual(ids);
    expect(probe.maxRunning).toBe(1);
    await probe.stop();
  });

  test("tell never runs the handler on the sender's stack", async () => {
    const probe = await started();
    probe.tell({ op: "work", id: 1 });
    expect(probe.running).toBe(0);
    expect(probe.handled).toEqual([]);
    await waitFor(() => probe.handled.length === 1, "handled");
    await probe.stop();
  });

  test("ask resolves with the handler's return value", async () => {
    const probe = await started();
    expect(await probe.ask<number>({ op: "work", id: 4 }, 500)).toBe(40);
    expect(await probe.ask({ op: "echo", value: { a: 1 } }, 500)).toEqual({ a: 1 });
    await probe.stop();
  });

  test("ask times out with AskTimeoutError; a timed-out queued ask is never handled", async () => {
    const probe = await started();
    const slow = probe.ask({ op: "work", id: 1, ms: 80 }, 20);
    const queued = probe.ask({ op: "work", id: 2 }, 20);
    const slowError = await slow.catch((e) => e);
    expect(slowError).toBeInstanceOf(AskTimeoutError);
    expect((slowError as AskTimeoutError).timeoutMs).toBe(20);
    expect(await queued.catch((e) => e)).toBeInstanceOf(AskTimeoutError);
    expect(probe.snapshot().mailboxDepth).toBe(0);
    await waitFor(() => probe.handled.includes(1), "the running message to finish");
    await sleep(10);
    expect(probe.handled).toEqual([1]); // 2 was withdrawn when its ask expired
    await probe.stop();
  });

  test("ask without a positive timeout is refused", async () => {
    const probe = await started();
    expect(await probe.ask({ op: "work", id: 1 }, 0).catch((e) => e)).toBeInstanceOf(RangeError);
    expect(await probe.ask({ op: "work", id: 1 }, Number.NaN).catch((e) => e)).toBeInstanceOf(RangeError);
    await probe.stop();
  });

  test("a throwing handler rejects its ask with that error and crashes the actor", async () => {
    const probe = await started();
    const exits: Exit[] = [];
    probe.watch((exit) => exits.push(exit));
    const hold = probe.ask({ op: "work", id: 1, ms: 20 }, 1000);
    const failing = probe.ask({ op: "fail", why: "boom" }, 1000);
    const queuedAsk = probe.ask({ op: "work", id: 3 }, 1000);
    probe.tell({ op: "work", id: 4 });
    expect(await hold).toBe(10);
    const error = await failing.catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe("boom");
    expect(await queuedAsk.catch((e) => e)).toBeInstanceOf(ActorStoppedError);
    await waitFor(() => exits.length === 1, "exit");
    expect(exits[0]?.kind).toBe("crash");
    expect(probe.state).toBe("failed");
    expect(probe.events).toEqual(["start", "stop:crash"]);
    expect(probe.handled).toEqual([1]);
    const snap = probe.snapshot();
    expect(snap.dropped).toBe(2);
    expect(snap.lastError).toBe("Error: boom");
    expect(() => probe.tell({ op: "work", id: 5 })).toThrow(ActorStoppedError);
  });

  test("messages sent before start wait for onStart", async () => {
    const opened = gate();
    const seen: string[] = [];
    const actor = actorOf<string>({
      name: "early",
      onStart: async () => {
        await opened.promise;
        seen.push("started");
      },
      handle: (msg) => void seen.push(msg),
    });
    actor.tell("a");
    const reply = actor.ask("b", 1000);
    const starting = actor.start();
    await sleep(5);
    expect(seen).toEqual([]);
    opened.open();
    await starting;
    await reply;
    expect(seen).toEqual(["started", "a", "b"]);
    await actor.stop();
  });
});

describe("Actor mailbox overflow", () => {
  test("'reject': tell throws MailboxFullError and ask rejects with it", async () => {
    const busy = gate();
    const actor = actorOf<number>({ name: "small", mailbox: { capacity: 2, overflow: "reject" }, handle: () => busy.promise });
    await actor.start();
    actor.tell(0); // taken by the handler, which blocks
    await sleep(1);
    actor.tell(1);
    actor.tell(2);
    expect(() => actor.tell(3)).toThrow(MailboxFullError);
    expect(await actor.ask(4, 500).catch((e) => e)).toBeInstanceOf(MailboxFullError);
    expect(actor.snapshot().mailboxDepth).toBe(2);
    busy.open();
    await actor.stop();
  });

  test("'drop-oldest': newest kept, evicted asks rejected, drops counted", async () => {
    const busy = gate();
    const handled: number[] = [];
    const actor = actorOf<number>({
      name: "lossy",
      mailbox: { capacity: 2, overflow: "drop-oldest" },
      handle: async (n) => {
        if (n === 0) await busy.promise;
        handled.push(n);
        return n;
      },
    });
    await actor.start();
    actor.tell(0);
    await sleep(1);
    const evictedAsk = actor.ask(1, 1000);
    actor.tell(2);
    actor.tell(3); // evicts 1
    actor.tell(4); // evicts 2
    expect(await evictedAsk.catch((e) => e)).toBeInstanceOf(MailboxFullError);
    expect(actor.snapshot()).toMatchObject({ mailboxDepth: 2, dropped: 2 });
    busy.open();
    await waitFor(() => handled.length === 3, "the kept messages");
    expect(handled).toEqual([0, 3, 4]);
    await actor.stop();
  });
});

describe("Actor lifecycle", () => {
  test("stop is idempotent, waits for the in-flight message, rejects queued asks and counts dropped tells", async () => {
    const probe = await started();
    const inFlight = probe.ask({ op: "work", id: 1, ms: 40 }, 1000);
    const queuedAsk = probe.ask({ op: "work", id: 2 }, 1000);
    probe.tell({ op: "work", id: 3 });
    await sleep(5);
    const first = probe.stop("shutdown");
    const second = probe.stop("again");
    expect(second).toBe(first);
    expect(probe.state).toBe("stopping");
    expect(() => probe.tell({ op: "work", id: 4 })).toThrow(ActorStoppedError);
    await first;
    expect(await inFlight).toBe(10); // finished, not cut off
    expect(probe.handled).toEqual([1]);
    expect(probe.events).toEqual(["start", "stop:normal"]);
    expect(await queuedAsk.catch((e) => e)).toBeInstanceOf(ActorStoppedError);
    expect(probe.snapshot()).toMatchObject({ state: "stopped", dropped: 2, mailboxDepth: 0 });
    expect(probe.stop()).toBe(first);
  });

  test("a throwing onStart is a crash: start rejects, onStop still runs, watchers hear it", async () => {
    const exits: Exit[] = [];
    const stops: string[] = [];
    const actor = actorOf<never>({
      name: "bad-start",
      onStart: () => {
        throw new Error("no connection");
      },
      onStop: (exit) => void stops.push(exit.kind),
      handle: () => undefined,
    });
    actor.watch((exit) => exits.push(exit));
    expect(await actor.start().catch((e) => (e as Error).message)).toBe("no connection");
    expect(actor.state).toBe("failed");
    expect(stops).toEqual(["crash"]);
    expect(exits).toHaveLength(1);
  });

  test("a throwing onStop is contained and recorded", async () => {
    const actor = actorOf<never>({
      name: "bad-stop",
      onStop: () => {
        throw new Error("close failed");
      },
      handle: () => undefined,
    });
    await actor.start();
    await actor.stop();
    expect(actor.snapshot()).toMatchObject({ state: "stopped", lastError: "Error: close failed" });
  });

  test("crash(err) from a background loop ends the actor and aborts its signal", async () => {
    let loopSignal: AbortSignal | undefined;
    const exits: Exit[] = [];
    const actor = actorOf<never>({
      name: "looper",
      onStart: (self) => {
        loopSignal = self.signal;
        setTimeout(() => self.crash(new Error("loop died")), 5);
      },
      handle: () => undefined,
    });
    actor.watch((exit) => exits.push(exit));
    await actor.start();
    await waitFor(() => exits.length === 1, "crash exit");
    expect(exits[0]).toMatchObject({ kind: "crash" });
    expect(loopSignal?.aborted).toBe(true);
    expect(actor.state).toBe("failed");
  });

  test("an actor never started stops without running onStop and cannot start afterwards", async () => {
    const probe = new Probe({ name: "unused" });
    const pending = probe.ask({ op: "work", id: 1 }, 1000);
    await probe.stop();
    expect(probe.events).toEqual([]);
    expect(await pending.catch((e) => e)).toBeInstanceOf(ActorStoppedError);
    expect(await probe.start().catch((e) => e)).toBeInstanceOf(ActorStoppedError);
  });

  test("idle timeout stops the actor unless canPassivate says no", async () => {
    let allow = false;
    const actor = actorOf<string>({ name: "idle", idleMs: 15, canPassivate: () => allow, handle: () => undefined });
    await actor.start();
    actor.tell("keep me busy");
    await sleep(40);
    expect(actor.state).toBe("running");
    allow = true;
    await waitFor(() => actor.state === "stopped", "passivation");
  });

  test("snapshot reports state and mailbox depth", async () => {
    const busy = gate();
    const actor = actorOf<number>({ name: "snap", handle: () => busy.promise });
    expect(actor.snapshot()).toMatchObject({ name: "snap", state: "starting", mailboxDepth: 0 });
    await actor.start();
    for (let i = 0; i < 4; i++) actor.tell(i);
    await sleep(1);
    expect(actor.snapshot()).toMatchObject({ state: "running", mailboxDepth: 3, restarts: 0, dropped: 0 });
    busy.open();
    await actor.stop();
  });
});
