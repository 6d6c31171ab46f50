/**
 * Builds the supervision tree of DESIGN §3 from config. The role decides which
 * branches run: `api` serves sockets (conversations, canary), `worker` runs
 * the judge (workers, reaper, runners) and file processing (file workers and
 * their reaper), `all` both; every role persists.
 */
import { Registry, Supervisor, type ChildSpec, type Snapshot } from "./kernel/index.ts";
import { ConversationActor, conversationActorFactory, type ConversationMsg } from "./conversation.actor";
import { PersisterActor } from "./persister.actor";
import { CanaryActor } from "./canary.actor";
import { SqlRunnersActor } from "./sql-runners.actor";
import { WorkerActor } from "./worker.actor";
import { ReaperActor } from "./reaper.actor";
import { fileChildren } from "./file-worker.actor";
import { QUEUE, SubmissionJobs } from "../src/modules/problems/jobs";
import { exposeActorMetrics } from "./metrics";
import type { Config } from "../src/config";
import type { Db } from "../src/db/client";
import type { Engine } from "../src/engine/types";

export type ActorSystem = {
  root: Supervisor;
  /** Routes to the current conversations registry (a restarted registry is a new instance). */
  conversations: { tell(conversationId: string, msg: ConversationMsg): void };
  persister(): PersisterActor | undefined;
  /** Readiness: throws when the canary's pub/sub round trip is stale. */
  canaryCheck(): unknown;
  snapshot(): Snapshot;
  stop(): Promise<void>;
};

export type SystemDeps = { config: Config; engine: Engine; db: Db; extraChildren?: ChildSpec[]; onEscalate?: (err: Error) => void };

export async function startActorSystem({ config, engine, db, extraChildren = [], onEscalate }: SystemDeps): Promise<ActorSystem> {
  // One factory for every registry incarnation: it holds the follower sets, which outlive restarts.
  const createConversation = conversationActorFactory(engine.broker, config.CONVERSATION_IDLE_MS);
  const newRegistry = () => new Registry<string, ConversationActor>({
    name: "conversations",
    create: createConversation,
    idleMs: config.CONVERSATION_IDLE_MS,
    kind: "transient",
  });
  const judging = config.ROLE !== "api" && config.WORKER_CONCURRENCY > 0;
  const jobs = new SubmissionJobs(db, engine, config.SQL_TIMEOUT_MS);
  const queue = engine.queue(QUEUE);
  const runners = () => root.child<SqlRunnersActor>("sql-runners")?.pool;
  // A lease comfortably longer than one job, renewed every third of it while the job runs.
  const leaseMs = Math.max(10_000, config.SQL_TIMEOUT_MS * 3);
  const judgeChildren: ChildSpec[] = !judging ? [] : [
    { name: "sql-runners", kind: "permanent", create: () => new SqlRunnersActor(config, db) },
    { name: "reaper", kind: "permanent", create: () => new ReaperActor(queue, jobs) },
    ...Array.from({ length: config.WORKER_CONCURRENCY }, (_, i): ChildSpec => {
      const id = `worker-${config.INSTANCE_ID}-${i}`;
      return { name: id, kind: "permanent", create: () => new WorkerActor(queue, jobs, runners, { id, leaseMs }) };
    }),
  ];
  const children: ChildSpec[] = [
    { name: "persister", kind: "permanent", create: () => new PersisterActor(engine.outbox, db, { consumer: config.INSTANCE_ID, reclaimMs: config.PERSIST_RECLAIM_MS }) },
    { name: "canary", kind: "permanent", create: () => new CanaryActor(engine.broker, `huddle:canary:${config.INSTANCE_ID}`) },
    ...judgeChildren,
    ...fileChildren(config, engine, db),
    ...extraChildren,
    // Last, so it stops first: sockets go before the stores they read from.
    { name: "conversations", kind: "permanent", create: newRegistry },
  ];
  const root = new Supervisor({ name: "root", children, restart: { intensity: 10, periodMs: 60_000 }, ...(onEscalate ? { onEscalate } : {}) });
  await root.start();
  exposeActorMetrics({
    snapshot: () => root.snapshot(),
    runnerRestarts: () => (runners()?.stats().restarts ?? []).reduce((a, b) => a + b, 0),
  });
  return {
    root,
    conversations: {
      tell: (conversationId, msg) => root.child<Registry<string, ConversationActor>>("conversations")?.tell(conversationId, msg),
    },
    persister: () => root.child<PersisterActor>("persister"),
    canaryCheck: () => {
      const canary = root.child<CanaryActor>("canary");
      if (!canary) throw new Error("canary not running");
      return canary.check(10_000);
    },
    snapshot: () => root.snapshot(),
    stop: () => root.stop("shutdown"),
  };
}
