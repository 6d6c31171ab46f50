import { describe, expect, test } from "bun:test";
import {
  actorOf,
  EscalationError,
  Supervisor,
  type Child,
  type ChildKind,
  type ChildSpec,
  type RestartPolicy,
} from "../../../actors/kernel/index";
import { escalations, gate, sleep, waitFor } from "./helpers";

type Cmd = "fail" | "quit" | { echo: unknown };

/** A child that logs its lifecycle; "fail" crashes it, "quit" stops it normally. */
function worker(name: string, log: string[], failStart?: () => boolean) {
  return actorOf<Cmd>({
    name,
    onStart: () => {
      log.push(`start ${name}`);
      if (failStart?.()) throw new Error(`${name} cannot start`);
    },
    onStop: () => void log.push(`stop ${name}`),
    handle: (cmd, self) => {
      if (cmd === "fail") throw new Error(`${name} failed`);
      if (cmd === "quit") return void self.stop("done");
      return cmd.echo;
    },
  });
}

const fast: Partial<RestartPolicy> = { baseMs: 2, maxMs: 5, jitter: 0, intensity: 50, periodMs: 5000 };

function spec(name: string, kind: ChildKind, log: string[], failStart?: () => boolean): ChildSpec {
  return { name, kind, create: () => worker(name, log, failStart) };
}

const startsOf = (log: string[], name: string) => log.filter((line) => line === `start ${name}`).length;

describe("Supervisor restarts", () => {
  test("a child that keeps crashing is restarted after growing, jittered delays", async () => {
    const starts: number[] = [];
    const jitter = 0.25;
    const baseMs = 40;
    // A fixed "random" draw (half the jitter): the delays are exactly 35, 70, 140, 280 ms, so the test is replayable.
    const draw = 0.5;
    const root = new Supervisor({
      name: "root",
      restart: { baseMs, maxMs: 10_000, jitter, intensity: 10, periodMs: 10_000, random: () => draw },
      onEscalate: escalations().onEscalate,
      children: [
        {
          name: "flaky",
          kind: "permanent",
          create: () =>
            actorOf<never>({
              name: "flaky",
              onStart: () => {
                starts.push(performance.now());
                throw new Error("down");
              },
              handle: () => undefined,
            }),
        },
      ],
    });
    await root.start();
    await waitFor(() => starts.length >= 5, "five start attempts", 3000);
    await root.stop();
    const gaps = starts.slice(1, 5).map((at, i) => at - (starts[i] as number));
    gaps.forEach((gap, i) => {
      const delay = Math.round(baseMs * 2 ** i * (1 - jitter * draw));
      // Timers never fire early, so each gap is at least its (doubling) delay: the delays grow. A loaded
      // machine only makes gaps longer, so the upper bound is loose; backoffDelay's arithmetic itself is tested in mailbox.test.ts.
      expect(gap).toBeGreaterThanOrEqual(delay - 2);
      expect(gap).toBeLessThanOrEqual(delay + 1_000);
    });
    expect(root.snapshot().children?.[0]).toMatchObject({ name: "flaky", state: "stopped", restarts: starts.length });
  });

  test("more than `intensity` restarts in the period escalates to the root's onEscalate, naming the child", async () => {
    const log: string[] = [];
    const { seen, onEscalate } = escalations();
    const root = new Supervisor({
      name: "root",
      restart: { ...fast, intensity: 2 },
      onEscalate,
      children: [spec("steady", "permanent", log), spec("flaky", "permanent", log, () => true), spec("last", "permanent", log)],
    });
    await root.start();
    await waitFor(() => seen.length === 1, "escalation");
    const error = seen[0] as EscalationError;
    expect(error).toBeInstanceOf(EscalationError);
    expect(error.supervisor).toBe("root");
    expect(error.child).toBe("flaky");
    expect(error.message).toContain('"flaky"');
    expect((error.cause as Error).message).toBe("flaky cannot start");
    expect(startsOf(log, "flaky")).toBe(3); // first start + 2 restarts
    expect(root.state).toBe("failed");
    expect(log.filter((line) => line.startsWith("stop ") && line !== "stop flaky")).toEqual(["stop last", "stop steady"]);
  });

  test("a failing nested supervisor is a crashed child of its parent; the root escalates with the child's name", async () => {
    const log: string[] = [];
    const { seen, onEscalate } = escalations();
    const sub = () =>
      new Supervisor({ name: "workers", restart: { ...fast, intensity: 1 }, children: [spec("w1", "permanent", log)] });
    const root = new Supervisor({
      name: "root",
      restart: { ...fast, intensity: 1 },
      onEscalate,
      children: [{ name: "workers", kind: "permanent", create: sub }],
    });
    await root.start();
    const crashWorker = async () => {
      const workers = root.child<Supervisor>("workers");
      await waitFor(() => workers?.child("w1")?.snapshot().state === "running", "w1 running");
      workers?.ref<Cmd>("w1").tell("fail");
    };
    // Two crashes exceed the sub-supervisor's intensity of 1: it fails, root restarts it once.
    await crashWorker();
    await crashWorker();
    await waitFor(() => root.snapshot().children?.[0]?.restarts === 1, "root restarting workers");
    expect(seen).toEqual([]);
    // The fresh sub-supervisor starts over with its own fresh child; fail it twice again.
    await crashWorker();
    await crashWorker();
    await waitFor(() => seen.length === 1, "root escalation");
    expect(seen[0]?.child).toBe("workers");
    const cause = seen[0]?.cause as EscalationError;
    expect(cause).toBeInstanceOf(EscalationError);
    expect([cause.supervisor, cause.child]).toEqual(["workers", "w1"]);
  });
});

describe("Supervisor child kinds", () => {
  const cases: [ChildKind, "fail" | "quit", boolean][] = [
    ["permanent", "fail", true],
    ["permanent", "quit", true],
    ["transient", "fail", true],
    ["transient", "quit", false],
    ["temporary", "fail", false],
    ["temporary", "quit", false],
  ];
  for (const [kind, how, restarted] of cases) {
    test(`${kind} child after ${how === "fail" ? "a crash" : "a normal stop"}: ${restarted ? "restarted" : "removed"}`, async () => {
      const log: string[] = [];
      const root = new Supervisor({ name: "root", restart: fast, onEscalate: escalations().onEscalate, children: [spec("c", kind, log)] });
      await root.start();
      root.ref<Cmd>("c").tell(how);
      await waitFor(() => log.includes("stop c"), "child exit");
      await sleep(30); // several backoff periods
      expect(startsOf(log, "c")).toBe(restarted ? 2 : 1);
      expect(root.child("c") !== undefined).toBe(restarted);
      if (restarted) expect(await root.ref<Cmd>("c").ask({ echo: "alive" }, 500)).toBe("alive");
      await root.stop();
    });
  }

  test("stopChild is not a restart, even for a permanent child", async () => {
    const log: string[] = [];
    const root = new Supervisor({ name: "root", restart: fast, onEscalate: escalations().onEscalate, children: [spec("p", "permanent", log)] });
    await root.start();
    expect(await root.stopChild("p")).toBe(true);
    expect(await root.stopChild("p")).toBe(false);
    await sleep(20);
    expect(startsOf(log, "p")).toBe(1);
    expect(root.snapshot().children).toEqual([]);
    await root.stop();
  });
});

describe("Supervisor lifecycle", () => {
  test("children stop in reverse start order, dynamic and nested ones included", async () => {
    const log: string[] = [];
    const inner = () => new Supervisor({ name: "inner", children: [spec("i1", "permanent", log), spec("i2", "permanent", log)] });
    const root = new Supervisor({
      name: "root",
      onEscalate: escalations().onEscalate,
      children: [spec("a", "permanent", log), { name: "inner", kind: "permanent", create: inner }, spec("b", "transient", log)],
    });
    await root.start();
    await root.startChild(spec("d", "temporary", log));
    expect(root.startChild(spec("d", "temporary", log))).rejects.toThrow(/already has a child/);
    const stopping = root.stop();
    expect(root.stop()).toBe(stopping);
    await stopping;
    expect(log).toEqual([
      "start a", "start i1", "start i2", "start b", "start d",
      "stop d", "stop b", "stop i2", "stop i1", "stop a",
    ]);
    expect(root.state).toBe("stopped");
  });

  test("a ref reaches the restarted instance; messages sent during the backoff queue and show in the snapshot", async () => {
    const log: string[] = [];
    const root = new Supervisor({
      name: "root",
      restart: { baseMs: 60, maxMs: 60, jitter: 0, intensity: 5, periodMs: 5000 },
      onEscalate: escalations().onEscalate,
      children: [spec("svc", "permanent", log)],
    });
    await root.start();
    const svc = root.ref<Cmd>("svc");
    svc.tell("fail");
    await waitFor(() => root.snapshot().children?.[0]?.state === "restarting", "restarting state");
    const reply = svc.ask<string>({ echo: "queued" }, 1000);
    expect(root.snapshot()).toMatchObject({
      name: "root",
      kind: "root",
      state: "running",
      children: [{ name: "svc", kind: "permanent", state: "restarting", restarts: 1, mailboxDepth: 1 }],
    });
    expect(await reply).toBe("queued");
    expect(root.snapshot().children?.[0]).toMatchObject({ state: "running", restarts: 1, mailboxDepth: 0 });
    await root.stop();
  });

  test("stopping during a backoff cancels the pending restart", async () => {
    const log: string[] = [];
    const root = new Supervisor({
      name: "root",
      restart: { baseMs: 30, maxMs: 30, jitter: 0, intensity: 5, periodMs: 5000 },
      onEscalate: escalations().onEscalate,
      children: [spec("x", "permanent", log, () => true)],
    });
    await root.start();
    await root.stop();
    await sleep(60);
    expect(startsOf(log, "x")).toBe(1);
  });
});

describe("Supervisor strategy rest_for_one", () => {
  // jitter 0.5 with a fixed random of 0.5: every delay is 3/4 of nominal, deterministically.
  const seeded: Partial<RestartPolicy> = { baseMs: 40, maxMs: 40, jitter: 0.5, random: () => 0.5, intensity: 50, periodMs: 5000 };
  const names = ["A", "B", "C", "D"];
  const instances = (root: Supervisor) => names.map((name) => root.child(name));
  const afterCrash = (log: string[]) => log.slice(names.length);
  /** Like `worker`, but onStop takes `ms` and logs when it has finished. */
  const slowStopper = (name: string, log: string[], ms: number): ChildSpec => ({
    name,
    kind: "permanent",
    create: () =>
      actorOf<Cmd>({
        name,
        onStart: () => void log.push(`start ${name}`),
        onStop: async () => {
          await sleep(ms);
          log.push(`stop ${name}`);
        },
        handle: (cmd) => {
          if (cmd === "fail") throw new Error(`${name} failed`);
          return cmd === "quit" ? undefined : cmd.echo;
        },
      }),
  });

  test("a crash of B in [A,B,C,D] stops D then C, then restarts B, C, D in order; A is untouched", async () => {
    const log: string[] = [];
    const { seen, onEscalate } = escalations();
    const root = new Supervisor({
      name: "root",
      strategy: "rest_for_one",
      // One crash plus two collateral restarts would exceed intensity 1 if C and D counted.
      // A 150 ms backoff leaves the snapshot below ample time even on a loaded machine.
      restart: { ...seeded, baseMs: 200, maxMs: 200, intensity: 1 },
      onEscalate,
      // D takes longer to stop than the backoff: B must still wait for it.
      children: [...["A", "B", "C"].map((name) => spec(name, "permanent", log)), slowStopper("D", log, 80)],
    });
    await root.start();
    const before = instances(root);
    root.ref<Cmd>("B").tell("fail");
    await waitFor(() => log.includes("stop C"), "later children stopped");
    // Waiting out the backoff: B, C and D all show as restarting; only B counts a restart.
    expect(root.snapshot().children?.map(({ name, state, restarts }) => ({ name, state, restarts }))).toEqual([
      { name: "A", state: "running", restarts: 0 },
      { name: "B", state: "restarting", restarts: 1 },
      { name: "C", state: "restarting", restarts: 0 },
      { name: "D", state: "restarting", restarts: 0 },
    ]);
    const queued = root.ref<Cmd>("D").ask({ echo: "queued for D" }, 1000);
    await waitFor(() => startsOf(log, "D") === 2, "D started again");
    expect(afterCrash(log)).toEqual(["stop B", "stop D", "stop C", "start B", "start C", "start D"]);
    const after = instances(root);
    expect(after[0]).toBe(before[0] as (typeof after)[number]);
    for (const i of [1, 2, 3]) expect(after[i]).not.toBe(before[i] as (typeof after)[number]);
    expect(await queued).toBe("queued for D");
    for (const name of names) expect(await root.ref<Cmd>(name).ask({ echo: name }, 500)).toBe(name);
    expect(root.snapshot().children?.every((child) => child.state === "running")).toBe(true);
    expect(seen).toEqual([]);
    await root.stop();
  });

  test("a crash of the last child restarts only that child", async () => {
    const log: string[] = [];
    const root = new Supervisor({
      name: "root",
      strategy: "rest_for_one",
      restart: seeded,
      onEscalate: escalations().onEscalate,
      children: names.map((name) => spec(name, "permanent", log)),
    });
    await root.start();
    const before = instances(root);
    root.ref<Cmd>("D").tell("fail");
    await waitFor(() => startsOf(log, "D") === 2, "D restarted");
    await sleep(20);
    expect(afterCrash(log)).toEqual(["stop D", "start D"]);
    const after = instances(root);
    for (const i of [0, 1, 2]) expect(after[i]).toBe(before[i] as (typeof after)[number]);
    expect(after[3]).not.toBe(before[3] as (typeof after)[number]);
    await root.stop();
  });

  for (const strategy of [undefined, "one_for_one"] as const) {
    test(`strategy ${strategy ?? "omitted"} (one_for_one) restarts only the crashed child`, async () => {
      const log: string[] = [];
      const root = new Supervisor({
        name: "root",
        ...(strategy ? { strategy } : {}),
        restart: seeded,
        onEscalate: escalations().onEscalate,
        children: names.map((name) => spec(name, "permanent", log)),
      });
      await root.start();
      const before = instances(root);
      root.ref<Cmd>("B").tell("fail");
      await waitFor(() => startsOf(log, "B") === 2, "B restarted");
      await sleep(60); // longer than a backoff: nothing else happens
      expect(afterCrash(log)).toEqual(["stop B", "start B"]);
      const after = instances(root);
      for (const i of [0, 2, 3]) expect(after[i]).toBe(before[i] as (typeof after)[number]);
      expect(after[1]).not.toBe(before[1] as (typeof after)[number]);
      await root.stop();
    });
  }

  test("temporary later children are removed, transient and permanent ones restarted", async () => {
    const log: string[] = [];
    const root = new Supervisor({
      name: "root",
      strategy: "rest_for_one",
      restart: seeded,
      onEscalate: escalations().onEscalate,
      children: [
        spec("A", "permanent", log),
        spec("B", "permanent", log),
        spec("C", "transient", log),
        spec("T", "temporary", log),
        spec("D", "permanent", log),
      ],
    });
    await root.start();
    root.ref<Cmd>("B").tell("fail");
    await waitFor(() => startsOf(log, "D") === 2, "D started again");
    await sleep(20);
    expect(log.slice(5)).toEqual(["stop B", "stop D", "stop T", "stop C", "start B", "start C", "start D"]);
    expect(root.child("T")).toBeUndefined();
    expect(root.snapshot().children?.map((child) => child.name)).toEqual(["A", "B", "C", "D"]);
    await root.stop();
  });

  test("a child that is not restarted leaves the later children alone", async () => {
    const log: string[] = [];
    const root = new Supervisor({
      name: "root",
      strategy: "rest_for_one",
      restart: seeded,
      onEscalate: escalations().onEscalate,
      children: [spec("A", "permanent", log), spec("B", "transient", log), spec("C", "permanent", log)],
    });
    await root.start();
    const c = root.child("C");
    root.ref<Cmd>("B").tell("quit");
    await waitFor(() => log.includes("stop B"), "B exit");
    await sleep(60);
    expect(log.slice(3)).toEqual(["stop B"]);
    expect(root.child("C")).toBe(c as Child);
    expect(root.snapshot().children?.map((child) => child.name)).toEqual(["A", "C"]);
    await root.stop();
  });

  test("exceeding the intensity still escalates, naming the failing child", async () => {
    const log: string[] = [];
    const { seen, onEscalate } = escalations();
    const root = new Supervisor({
      name: "root",
      strategy: "rest_for_one",
      restart: { ...seeded, baseMs: 2, maxMs: 5, intensity: 2 },
      onEscalate,
      children: [
        spec("A", "permanent", log),
        spec("B", "permanent", log, () => startsOf(log, "B") > 1), // starts once, then never again
        spec("C", "permanent", log),
      ],
    });
    await root.start();
    root.ref<Cmd>("B").tell("fail");
    await waitFor(() => seen.length === 1, "escalation");
    const error = seen[0] as EscalationError;
    expect(error).toBeInstanceOf(EscalationError);
    expect([error.supervisor, error.child]).toEqual(["root", "B"]);
    expect((error.cause as Error).message).toBe("B cannot start");
    expect(root.state).toBe("failed");
    // Crash, two failed restarts (the third crash exceeds 2); C is stopped once and never
    // started in between, since B never came back. A stops last, when the root gives up.
    expect(log.slice(3)).toEqual(["stop B", "stop C", "start B", "stop B", "start B", "stop B", "stop A"]);
  });

  test("an unknown strategy is refused", () => {
    expect(() => new Supervisor({ name: "root", strategy: "one_for_all" as never })).toThrow(RangeError);
  });
});

describe("Supervisor strategy rest_for_one, overlapping events", () => {
  const seeded: Partial<RestartPolicy> = { baseMs: 20, maxMs: 20, jitter: 0.5, random: () => 0, intensity: 1, periodMs: 5000 };

  test("a later child crashing on its own while waiting to be stopped is not a restart", async () => {
    const log: string[] = [];
    const { seen, onEscalate } = escalations();
    const stopping = gate();
    const root = new Supervisor({
      name: "root",
      strategy: "rest_for_one",
      restart: seeded, // intensity 1: B's crash plus C's would escalate if C's counted
      onEscalate,
      children: [
        spec("B", "permanent", log),
        spec("C", "permanent", log),
        {
          name: "D",
          kind: "permanent",
          create: () =>
            actorOf<Cmd>({
              name: "D",
              onStart: () => void log.push("start D"),
              onStop: async () => {
                log.push("stopping D");
                await stopping.promise;
              },
              handle: () => undefined,
            }),
        },
      ],
    });
    await root.start();
    root.ref<Cmd>("B").tell("fail");
    await waitFor(() => log.includes("stopping D"), "D stopping");
    root.ref<Cmd>("C").tell("fail"); // C crashes before the sequence reaches it
    await waitFor(() => log.includes("stop C"), "C crashed");
    await sleep(40); // two backoffs: nothing may restart while D is still stopping
    expect(log.slice(3)).toEqual(["stop B", "stopping D", "stop C"]);
    stopping.open();
    await waitFor(() => log.filter((line) => line === "start D").length === 2, "D started again");
    expect(log.slice(3)).toEqual(["stop B", "stopping D", "stop C", "start B", "start C", "start D"]);
    expect(seen).toEqual([]);
    expect(root.snapshot().children?.map((child) => child.restarts)).toEqual([1, 0, 0]);
    await root.stop();
  });

  test("a child failing during the initial start: the later children start only after it", async () => {
    const log: string[] = [];
    const root = new Supervisor({
      name: "root",
      strategy: "rest_for_one",
      restart: seeded,
      onEscalate: escalations().onEscalate,
      children: [spec("A", "permanent", log), spec("B", "permanent", log, () => startsOf(log, "B") === 1), spec("C", "permanent", log)],
    });
    await root.start();
    await waitFor(() => startsOf(log, "C") === 1, "C started");
    await sleep(30);
    expect(log).toEqual(["start A", "start B", "stop B", "start B", "start C"]);
    await root.stop();
  });
});
