import { describe, expect, test } from "bun:test";
import {
  Actor,
  ActorStoppedError,
  Registry,
  Supervisor,
  type Exit,
  type RestartPolicy,
} from "../../../actors/kernel/index";
import { escalations, gate, sleep, waitFor } from "./helpers";

type Msg = { text: string } | "fail";

/** One per conversation id; logs "<instance>:<event>" into a shared journal. */
class Conversation extends Actor<Msg> {
  static created = 0;
  readonly instance: number;

  constructor(
    readonly id: string,
    private readonly journal: string[],
    private readonly stopGate?: Promise<void>,
  ) {
    super({ name: `conversation:${id}` });
    this.instance = ++Conversation.created;
  }

  protected override onStart() {
    this.journal.push(`${this.instance}:start`);
  }

  protected override async onStop(exit: Exit) {
    this.journal.push(`${this.instance}:stopping(${exit.kind === "normal" ? exit.reason : "crash"})`);
    await this.stopGate;
    this.journal.push(`${this.instance}:stopped`);
  }

  protected handle(msg: Msg) {
    if (msg === "fail") throw new Error(`conversation ${this.id} failed`);
    this.journal.push(`${this.instance}:${msg.text}`);
    return `${this.id}/${this.instance}:${msg.text}`;
  }
}

const fast: Partial<RestartPolicy> = { baseMs: 20, maxMs: 20, jitter: 0, intensity: 20, periodMs: 5000 };

function registry(journal: string[], options: { idleMs?: number; kind?: "transient" | "temporary"; stopGate?: Promise<void> } = {}) {
  return new Registry<string, Conversation>({
    name: "conversations",
    create: (id) => new Conversation(id, journal, options.stopGate),
    idleMs: options.idleMs,
    kind: options.kind,
    restart: fast,
    onEscalate: escalations().onEscalate,
  });
}

describe("Registry", () => {
  test("creates one actor per key on demand and routes tell/ask to it", async () => {
    const journal: string[] = [];
    const conversations = registry(journal);
    await conversations.start();
    expect(conversations.has("a")).toBe(false);
    conversations.tell("a", { text: "hi" });
    expect(await conversations.ask<string>("a", { text: "again" }, 500)).toMatch(/^a\/\d+:again$/);
    expect(await conversations.ask<string>("b", { text: "yo" }, 500)).toMatch(/^b\/\d+:yo$/);
    expect(conversations.get("a")).toBe(conversations.get("a"));
    expect(conversations.get("a")).not.toBe(conversations.get("b"));
    expect(conversations.size).toBe(2);
    const a = conversations.get("a").instance;
    expect(journal.filter((line) => line.startsWith(`${a}:`))).toEqual([`${a}:start`, `${a}:hi`, `${a}:again`]);
    expect(conversations.snapshot().children?.map((child) => [child.name, child.kind, child.state])).toEqual([
      ["a", "transient", "running"],
      ["b", "transient", "running"],
    ]);
    await conversations.stop();
    expect(conversations.peek("a")).toBeUndefined();
    expect(() => conversations.tell("a", { text: "late" })).toThrow(ActorStoppedError);
    expect(await conversations.ask("c", { text: "late" }, 100).catch((e) => e)).toBeInstanceOf(ActorStoppedError);
  });

  test("an idle actor passivates and is removed; the next message gets a fresh one", async () => {
    const journal: string[] = [];
    const conversations = registry(journal, { idleMs: 20 });
    await conversations.start();
    const first = conversations.get("a");
    first.tell({ text: "one" });
    await waitFor(() => conversations.size === 0, "passivation");
    expect(first.state).toBe("stopped");
    const second = conversations.get("a");
    expect(second).not.toBe(first);
    expect(await conversations.ask<string>("a", { text: "two" }, 500)).toBe(`a/${second.instance}:two`);
    await conversations.stop();
  });

  test("messages racing a passivating actor reach a fresh actor exactly once, after the old one stopped", async () => {
    const journal: string[] = [];
    const slowStop = gate();
    const conversations = registry(journal, { idleMs: 15, stopGate: slowStop.promise });
    await conversations.start();
    const old = conversations.get("a");
    conversations.tell("a", { text: "m1" });
    await waitFor(() => old.state === "stopping", "passivation to begin");
    conversations.tell("a", { text: "m2" });
    const reply = conversations.ask<string>("a", { text: "m3" }, 1000);
    const fresh = conversations.get("a");
    expect(fresh).not.toBe(old);
    await sleep(10);
    expect(fresh.state).toBe("starting"); // waits for the old one's onStop
    slowStop.open();
    expect(await reply).toBe(`a/${fresh.instance}:m3`);
    const o = old.instance;
    const f = fresh.instance;
    expect(journal).toEqual([
      `${o}:start`, `${o}:m1`, `${o}:stopping(idle)`, `${o}:stopped`,
      `${f}:start`, `${f}:m2`, `${f}:m3`,
    ]);
    expect(conversations.size).toBe(1); // the old actor's exit did not remove the new one
    await conversations.stop();
  });

  test("a crashed transient actor is restarted under the same key; messages during the backoff queue", async () => {
    const journal: string[] = [];
    const conversations = registry(journal);
    await conversations.start();
    const first = conversations.get("a");
    conversations.tell("a", "fail");
    await waitFor(() => conversations.snapshot().children?.[0]?.state === "restarting", "restart backoff");
    const reply = conversations.ask<string>("a", { text: "after" }, 1000);
    const restarted = conversations.get("a");
    expect(restarted).not.toBe(first);
    expect(await reply).toBe(`a/${restarted.instance}:after`);
    expect(conversations.snapshot().children?.[0]).toMatchObject({ name: "a", restarts: 1, state: "running" });
    await conversations.stop();
  });

  test("a crashed temporary actor is removed, and the next message creates a new one", async () => {
    const journal: string[] = [];
    const conversations = registry(journal, { kind: "temporary" });
    await conversations.start();
    const first = conversations.get("a");
    conversations.tell("a", "fail");
    await waitFor(() => conversations.size === 0, "removal");
    expect(first.state).toBe("failed");
    expect(await conversations.ask<string>("a", { text: "new" }, 500)).toMatch(/^a\/\d+:new$/);
    expect(conversations.snapshot().children?.[0]?.restarts).toBe(0);
    await conversations.stop();
  });

  test("stopKey stops one actor; as a supervised child the registry stops with its parent", async () => {
    const journal: string[] = [];
    const root = new Supervisor({
      name: "root",
      onEscalate: escalations().onEscalate,
      children: [{ name: "conversations", kind: "permanent", create: () => registry(journal) }],
    });
    await root.start();
    const conversations = root.child<Registry<string, Conversation>>("conversations");
    if (!conversations) throw new Error("registry missing");
    conversations.tell("a", { text: "x" });
    conversations.tell("b", { text: "y" });
    await waitFor(() => journal.length === 4, "both handled");
    expect(await conversations.stopKey("a")).toBe(true);
    expect(conversations.has("a")).toBe(false);
    expect(conversations.has("b")).toBe(true);
    await root.stop();
    expect(journal.filter((line) => line.endsWith(":stopped"))).toHaveLength(2);
    expect(root.snapshot().children?.[0]).toMatchObject({ name: "conversations", state: "stopped" });
  });

  test("registry children come from keys only", async () => {
    const conversations = registry([]);
    await conversations.start();
    expect(
      conversations.startChild({ name: "x", kind: "temporary", create: () => new Conversation("x", []) }),
    ).rejects.toThrow(/from keys/);
    await conversations.stop();
  });
});
