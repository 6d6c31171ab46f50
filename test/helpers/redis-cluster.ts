/**
 * A throwaway Redis Cluster for tests: `masters` x `redis-server
 * --cluster-enabled yes` (plus `replicasPerMaster` replicas each) on free
 * 127.0.0.1 ports, joined with `redis-cli --cluster create --cluster-yes`,
 * and a stop() that kills every node and removes their directory. Ports are
 * taken from REDIS_CLUSTER_TEST_PORTS (default 7100-7199), skipping any in
 * use (each node also needs port + 10000 for the cluster bus).
 *
 * Needs Debian's `redis-server` and `redis-cli` (Redis 7: sharded pub/sub);
 * `clusterTools()` prints a `SKIP:` line when they are missing, or throws
 * under REQUIRE_SERVICES=1 so CI cannot skip the cluster tests silently.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis, { Cluster } from "ioredis";

export type ClusterNodeProcess = { port: number; proc: ReturnType<typeof Bun.spawn> };

export type TestCluster = {
  /** REDIS_CLUSTER_NODES for Huddle: every node, `127.0.0.1:port,...`. */
  nodes: string;
  ports: number[];
  /** Process ids of the nodes (for CPU accounting in the bench). */
  pids: number[];
  /** A Cluster client for setup and checks. */
  admin(): Cluster;
  /** The port of the master serving `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** Kills a node at once (SIGKILL), as a crashed machine would go. */
  kill(port: number): void;
  /** FLUSHALL on every master (between tests). */
  flush(): Promise<void>;
  /** Resolves once every slot is served again (after a failover); throws after `timeoutMs`. */
  healthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
};

export function clusterTools(): boolean {
  const missing = ["redis-server", "redis-cli"].filter((bin) => !Bun.which(bin));
  if (missing.length === 0) return true;
  const msg = `${missing.join(" and ")} not installed (apt-get install redis-server)`;
  if (process.env.REQUIRE_SERVICES === "1") throw new Error(`REQUIRE_SERVICES=1 but ${msg}`);
  console.error(`SKIP: ${msg}; the Redis Cluster tests are skipped`);
  return false;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

async function freePorts(n: number): Promise<number[]> {
  const [lo, hi] = (process.env.REDIS_CLUSTER_TEST_PORTS ?? "7100-7199").split("-").map(Number) as [number, number];
  const out: number[] = [];
  for (let p = lo; p <= hi && out.length < n; p++) if ((await portFree(p)) && (await portFree(p + 10_000))) out.push(p);
  if (out.length < n) throw new Error(`only ${out.length} of ${n} free ports in ${lo}-${hi} (REDIS_CLUSTER_TEST_PORTS)`);
  return out;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`test cluster: ${what} not reached in ${timeoutMs} ms`);
    await Bun.sleep(100);
  }
}

function quietNode(port: number): Redis {
  const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on("error", () => {}); // a node not up (yet): the call fails and the caller polls again
  return r;
}

/** True for a replica, or a master with `n` replicas online. */
async function replicasOnline(port: number, n: number): Promise<boolean> {
  const r = quietNode(port);
  try {
    await r.connect();
    const info = await r.info("replication");
    if (/role:slave/.test(info)) return true;
    return (info.match(/^slave\d+:.*state=online/gm) ?? []).length >= n;
  } finally {
    r.disconnect();
  }
}

async function clusterOk(port: number): Promise<boolean> {
  const r = quietNode(port);
  try {
    await r.connect();
    const info = await r.cluster("INFO");
    return /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info);
  } finally {
    r.disconnect();
  }
}

/**
 * `nodeTimeoutMs` is cluster-node-timeout: how long a node may not answer before the others
 * mark it failed. With replicas it is short (1 s) so failover tests fail over quickly. Without
 * replicas a failed master can only take the whole cluster down (CLUSTERDOWN until it answers
 * again), so it is long (15 s): on a loaded CI machine a node's answer can be late by a second,
 * and that must not turn into a CLUSTERDOWN in the middle of a chat test.
 */
export async function startTestCluster(opts: { masters?: number; replicasPerMaster?: number; nodeTimeoutMs?: number } = {}): Promise<TestCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 0;
  const nodeTimeoutMs = opts.nodeTimeoutMs ?? (replicas > 0 ? 1000 : 15_000);
  const ports = await freePorts(masters * (1 + replicas));
  const dir = mkdtempSync(join(tmpdir(), "huddle-cluster-"));
  const nodes: ClusterNodeProcess[] = ports.map((port) => ({
    port,
    proc: Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
      "--cluster-config-file", `nodes-${port}.conf`, "--cluster-node-timeout", String(nodeTimeoutMs), "--dir", dir,
      "--save", "", "--appendonly", "no", "--cluster-replica-validity-factor", "0"], { cwd: dir, stdout: "ignore", stderr: "ignore" }),
  }));
  const stop = async () => {
    for (const n of nodes) n.proc.kill("SIGKILL");
    await Promise.all(nodes.map((n) => n.proc.exited));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ports.map((port) => waitFor(async () => {
      const r = quietNode(port);
      try {
        await r.connect();
        return (await r.ping()) === "PONG";
      } finally {
        r.disconnect();
      }
    }, 10_000, `node ${port} up`)));
    const create = Bun.spawnSync(["redis-cli", "--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`),
      "--cluster-replicas", String(replicas), "--cluster-yes"], { stdout: "pipe", stderr: "pipe" });
    if (create.exitCode !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    await waitFor(async () => (await Promise.all(ports.map(clusterOk))).every(Boolean), 20_000, "cluster_state:ok on every node");
    // A replica still in its first sync acknowledges no WAIT: wait until every master has its replicas online.
    if (replicas > 0) await waitFor(async () => (await Promise.all(ports.map((p) => replicasOnline(p, replicas)))).every(Boolean), 20_000, "replicas in sync");
  } catch (err) {
    await stop();
    throw err;
  }
  const alive = () => nodes.filter((n) => n.proc.exitCode === null && !n.proc.killed).map((n) => n.port);
  const admin = () => {
    const c = new Cluster(alive().map((port) => ({ host: "127.0.0.1", port })));
    c.on("error", () => {}); // a killed node: the calls say so
    return c;
  };
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(","),
    ports,
    pids: nodes.map((n) => n.proc.pid),
    admin,
    async masterOf(key) {
      const c = admin();
      try {
        const slot = Number(await c.cluster("KEYSLOT", key));
        const shards = (await c.cluster("SLOTS")) as unknown as [number, number, [string, number]][];
        const range = shards.find(([from, to]) => slot >= from && slot <= to);
        return range![2][1];
      } finally {
        c.disconnect();
      }
    },
    kill(port) {
      nodes.find((n) => n.port === port)?.proc.kill("SIGKILL");
    },
    async flush() {
      const c = admin();
      try {
        await c.cluster("SLOTS"); // connects
        await Promise.all(c.nodes("master").map((n) => n.flushall()));
      } finally {
        c.disconnect();
      }
    },
    async healthy(timeoutMs = 30_000) {
      await waitFor(async () => (await Promise.all(alive().map(clusterOk))).every(Boolean), timeoutMs, "every slot served");
    },
    stop,
  };
}
