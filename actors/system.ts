/**
 * Builds the supervision tree (DESIGN §3) from what the composition root
 * hands over: ports and plain handler interfaces, never feature modules or
 * config. Which branches exist is the root's decision (the role):
 *
 * root (one_for_one)
 *  |- persister        permanent  outbox -> BatchWriter
 *  |- canary           permanent  pub/sub round trip for /ready
 *  |- judge            rest_for_one: sql-runners, then the judge claim loops
 *  |- reaper           permanent  expired leases of problems:queue
 *  |- file-reaper, file-worker-*  the files queue (same claim loop, another handler)
 *  |- notification-reaper, notification-worker-*  the notifications queue (same claim loop)
 *  |- digest           permanent  email digests every few seconds (only with SMTP_URL)
 *  '- conversations    registry of conversation actors (last: stops first)
 */
import { Registry, Supervisor, type ChildSpec, type Snapshot } from "./kernel";
import { conversationActorFactory, type ConversationActor, type ConversationDelivery, type ConversationSource, type Follower } from "./conversation.actor";
import { PersisterActor, type BatchWriter } from "./persister.actor";
import { CanaryActor } from "./canary.actor";
import { SqlRunnersActor, type RunnerPoolLike } from "./sql-runners.actor";
import { ClaimLoopActor, type JobHandler } from "./claim-loop.actor";
import { ReaperActor, type DeadJobHandler } from "./reaper.actor";
import { PeriodicActor } from "./periodic.actor";
import type { Broker, Job, JobQueue, Outbox } from "../src/engine/types";
import type { Sandbox } from "../src/sandbox/types";

/** One queue's workers and reaper. */
export type QueueBranch = {
  queue: JobQueue;
  handler: JobHandler & DeadJobHandler;
  concurrency: number;
  leaseMs: number;
  maxAttempts: number;
  handBackOnFailure?: boolean;
};

/** The judge: a runner pool, then claim loops that run jobs on it. */
export type JudgeBranch = Omit<QueueBranch, "handler"> & {
  openRunners: () => Promise<RunnerPoolLike>;
  jobs: { run(job: Job, sandbox: Sandbox): Promise<void> } & DeadJobHandler;
};

export type SystemSpec<F extends Follower> = {
  instanceId: string;
  conversations: { source: ConversationSource; delivery: ConversationDelivery<F>; idleMs: number };
  persister: { outbox: Outbox; writer: BatchWriter; reclaimMs: number };
  canary: { broker: Broker; channel: string };
  judge?: JudgeBranch;
  files?: QueueBranch;
  notifications?: QueueBranch;
  digest?: { everyMs: number; sweep: () => Promise<unknown> };
  onEscalate?: (err: Error) => void;
};

export type ActorSystem<F extends Follower> = {
  root: Supervisor;
  /** Routes to the current conversations registry (a restarted registry is a new instance). */
  conversations: {
    follow(conversationId: string, follower: F): void;
    unfollow(conversationId: string, followerId: string): void;
    event(conversationId: string, payload: string): void;
  };
  /** Readiness: throws when the canary's pub/sub round trip is stale. */
  canaryCheck(): unknown;
  /** Connections or Workers replaced by the SQL runners. */
  runnerRestarts(): number;
  /** Fault injection (test hooks): crashes one actor; its name, or null when no such actor runs. */
  crash(target: "conversation" | "worker" | "runner", id?: string): string | null;
  snapshot(): Snapshot;
  stop(): Promise<void>;
};

type Crashable = { readonly state: string; crash(error: unknown): void };

export async function startActorSystem<F extends Follower>(spec: SystemSpec<F>): Promise<ActorSystem<F>> {
  const { conversations: conv } = spec;
  // One factory for every registry incarnation: it holds the follower sets, which outlive restarts.
  const createConversation = conversationActorFactory(conv.source, conv.delivery, conv.idleMs);
  const newRegistry = () => new Registry<string, ConversationActor<F>>({ name: "conversations", create: createConversation, idleMs: conv.idleMs, kind: "transient" });
  const workerName = (i: number | string) => `worker-${spec.instanceId}-${i}`;
  const children: ChildSpec[] = [
    { name: "persister", kind: "permanent", create: () => new PersisterActor(spec.persister.outbox, spec.persister.writer, { consumer: spec.instanceId, reclaimMs: spec.persister.reclaimMs }) },
    { name: "canary", kind: "permanent", create: () => new CanaryActor(spec.canary.broker, spec.canary.channel) },
    ...(spec.judge ? judgeChildren(spec.judge, workerName) : []),
    ...(spec.files ? queueChildren(spec.files, "file-reaper", (i) => `file-worker-${spec.instanceId}-${i}`) : []),
    ...(spec.notifications ? queueChildren(spec.notifications, "notification-reaper", (i) => `notification-worker-${spec.instanceId}-${i}`) : []),
    ...(spec.digest ? [{ name: "digest", kind: "permanent" as const, create: () => new PeriodicActor("digest", spec.digest!.everyMs, spec.digest!.sweep) }] : []),
    // Last, so it stops first: sockets go before the stores they read from.
    { name: "conversations", kind: "permanent", create: newRegistry },
  ];
  const root = new Supervisor({ name: "root", children, restart: { intensity: 10, periodMs: 60_000 }, ...(spec.onEscalate ? { onEscalate: spec.onEscalate } : {}) });
  await root.start();
  const registry = () => root.child<Registry<string, ConversationActor<F>>>("conversations");
  const runners = () => root.child<Supervisor>("judge")?.child<SqlRunnersActor>("sql-runners");
  return {
    root,
    conversations: {
      follow: (id, follower) => registry()?.tell(id, { type: "follow", follower }),
      unfollow: (id, followerId) => registry()?.tell(id, { type: "unfollow", followerId }),
      event: (id, payload) => registry()?.tell(id, { type: "event", payload }),
    },
    canaryCheck: () => {
      const canary = root.child<CanaryActor>("canary");
      if (!canary) throw new Error("canary not running");
      return canary.check(10_000);
    },
    runnerRestarts: () => (runners()?.pool?.stats().restarts ?? []).reduce((a, b) => a + b, 0),
    crash: (target, id) => {
      const judge = root.child<Supervisor>("judge");
      const [name, actor] =
        target === "conversation" ? [`conversations/${id}`, registry()?.peek(id ?? "")]
        : target === "worker" ? [workerName(id ?? 0), judge?.child(workerName(id ?? 0))]
        : ["sql-runners", judge?.child("sql-runners")];
      const crashable = actor as unknown as Crashable | undefined;
      if (!crashable || crashable.state !== "running") return null;
      crashable.crash(new Error(`fault injected through /__test/crash (${name})`));
      return name;
    },
    snapshot: () => root.snapshot(),
    stop: () => root.stop("shutdown"),
  };
}

/** The runner pool first, then the claim loops (rest_for_one: a new pool restarts them); the reaper beside them. */
function judgeChildren(branch: JudgeBranch, workerName: (i: number) => string): ChildSpec[] {
  let judge: Supervisor;
  const runners = () => judge.child<SqlRunnersActor>("sql-runners");
  const handler: JobHandler = {
    ready: async () => {
      const actor = runners();
      if (!actor) throw new Error("the SQL runners are restarting");
      await actor.ready();
    },
    run: (job) => {
      const pool = runners()?.pool;
      if (!pool) throw new Error("the SQL runners are restarting");
      return branch.jobs.run(job, pool);
    },
  };
  const loops = Array.from({ length: branch.concurrency }, (_, i): ChildSpec => ({
    name: workerName(i), kind: "permanent", create: () => new ClaimLoopActor(branch.queue, handler, { id: workerName(i), leaseMs: branch.leaseMs }),
  }));
  return [
    {
      name: "judge", kind: "permanent",
      create: () => (judge = new Supervisor({
        name: "judge", strategy: "rest_for_one", restart: { intensity: 10, periodMs: 60_000 },
        children: [{ name: "sql-runners", kind: "permanent", create: () => new SqlRunnersActor(branch.openRunners) }, ...loops],
      })),
    },
    { name: "reaper", kind: "permanent", create: () => new ReaperActor(branch.queue, branch.jobs, { name: "reaper", maxAttempts: branch.maxAttempts }) },
  ];
}

function queueChildren(branch: QueueBranch, reaperName: string, workerName: (i: number) => string): ChildSpec[] {
  const loop = (i: number) => ({ id: workerName(i), leaseMs: branch.leaseMs, handBackOnFailure: branch.handBackOnFailure ?? false });
  return [
    { name: reaperName, kind: "permanent", create: () => new ReaperActor(branch.queue, branch.handler, { name: reaperName, maxAttempts: branch.maxAttempts }) },
    ...Array.from({ length: branch.concurrency }, (_, i): ChildSpec => ({
      name: workerName(i), kind: "permanent", create: () => new ClaimLoopActor(branch.queue, branch.handler, loop(i)),
    })),
  ];
}
