/** The chat-over-HTTP suite on a 3-master Redis Cluster started for this file (test/helpers/redis-cluster.ts). */
import { afterAll, describe } from "bun:test";
import { buildTestRuntime } from "../../helpers/runtime";
import { clusterTools, startTestCluster } from "../../helpers/redis-cluster";
import { postgresAvailable } from "../../helpers/services";
import { chatHttpSuite } from "./chat-http.suite";

const ok = clusterTools() && (await postgresAvailable());
if (ok) {
  const cluster = await startTestCluster({ masters: 3 });
  afterAll(() => cluster.stop());
  chatHttpSuite("PostgreSQL + Redis Cluster", async () => {
    await cluster.flush();
    return buildTestRuntime("postgres", { clusterNodes: cluster.nodes });
  });
} else describe.skip("chat over HTTP (PostgreSQL + Redis Cluster): services missing", () => {});
