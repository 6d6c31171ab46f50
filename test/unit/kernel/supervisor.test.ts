import { describe, expect, test } from "bun:test";
import {
  actorOf,
  EscalationError,
  Supervisor,
  type ChildKind,
  type ChildSpec,
  type RestartPolicy,
} from "../../../actors/kernel/index.ts";
import { escalations, sleep, waitFor } from "./helpers.ts";

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
    const root = new Supervisor({
      name: "root",
      restart: { baseMs, maxMs: 10_000, jitter, intensity: 10, periodMs: 10_000 },
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
      const nominal = baseMs * 2 ** i;
      expect(gap).toBeGreaterThanOrEqual(nominal * (1 - jitter) - 2);
      expect(gap).toBeLessThanOrEqual(nominal + 60);
      if (i > 0) expect(gap).toBeGreaterThan(gaps[i - 1] as number);
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
