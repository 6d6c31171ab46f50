/**
 * The supervision tree in /metrics: restarts, mailbox depth and whether each
 * actor runs, read from the tree's snapshot at scrape time; plus restarts of
 * the SQL runners (a runner replaces its connection or Worker on a timeout).
 */
import { Gauge } from "prom-client";
import { registry } from "./metrics";

/** The shape of the actor kernel's tree snapshot, as far as metrics read it. */
type Snapshot = { name: string; restarts: number; mailboxDepth: number; state: string; children?: Snapshot[] };

const restarts = new Gauge({ name: "huddle_actor_restarts", help: "Restarts of each supervised actor", labelNames: ["actor"] as const, registers: [registry] });
const depth = new Gauge({ name: "huddle_actor_mailbox_depth", help: "Messages waiting in each actor's mailbox", labelNames: ["actor"] as const, registers: [registry] });
const running = new Gauge({ name: "huddle_actor_running", help: "1 when the actor is running", labelNames: ["actor"] as const, registers: [registry] });
const runnerRestarts = new Gauge({ name: "huddle_sql_runner_restarts", help: "Connections or Workers replaced by SQL runners (timeouts, crashes)", registers: [registry] });

type Sources = { snapshot: () => Snapshot; runnerRestarts: () => number };
let sources: Sources | null = null;

/** Points the gauges at the running system (the last call wins: one system per process). */
export function exposeActorMetrics(s: Sources) {
  sources = s;
}

function visit(node: Snapshot, path: string) {
  // Keyed children (conversations) would explode cardinality: report their registry, and their restarts summed
  // under "<registry>/*" (a gauge: the restarts of the conversation actors alive now).
  const name = path ? `${path}/${node.name}` : node.name;
  restarts.set({ actor: name }, node.restarts);
  depth.set({ actor: name }, node.mailboxDepth);
  running.set({ actor: name }, node.state === "running" ? 1 : 0);
  if (node.name !== "conversations") for (const c of node.children ?? []) visit(c, name);
  else restarts.set({ actor: `${name}/*` }, (node.children ?? []).reduce((n, c) => n + c.restarts, 0));
}

(restarts as unknown as { collect: () => void }).collect = () => {
  if (!sources) return;
  restarts.reset();
  depth.reset();
  running.reset();
  visit(sources.snapshot(), "");
  runnerRestarts.set(sources.runnerRestarts());
};
