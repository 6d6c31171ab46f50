import { describe } from "bun:test";
import { buildTestRuntime } from "../../helpers/runtime";
import { postgresAvailable, redisAvailable } from "../../helpers/services";
import { judgeSuite } from "./judge.suite";

const ok = (await redisAvailable()) && (await postgresAvailable());
if (ok) judgeSuite("PostgreSQL sandbox + Redis queue", () => buildTestRuntime("postgres", { redisDb: 8, listen: true, config: { WORKER_CONCURRENCY: "2", RUNNER_POOL_SIZE: "2" } }));
else describe.skip("SQL judge (PostgreSQL + Redis): services missing", () => {});
