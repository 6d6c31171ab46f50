/**
 * The judge round trip with the application database behind a transaction-mode
 * PgBouncer: catalog, submit, worker, sandbox, verdict. The sandbox itself must
 * come from DATABASE_DIRECT_URL (its runners cancel queries by backend pid).
 */
import { describe } from "bun:test";
import { postgresAvailable, redisAvailable } from "../../helpers/services";
import { pgbouncerAvailable } from "../../helpers/pgbouncer";
import { buildPooledRuntime } from "../../helpers/pooled-runtime";
import { judgeSuite } from "./judge.suite";

const ok = pgbouncerAvailable() && (await redisAvailable()) && (await postgresAvailable());
if (ok) judgeSuite("behind PgBouncer, pool_mode = transaction", () => buildPooledRuntime({ redisDb: 7, config: { WORKER_CONCURRENCY: "2", RUNNER_POOL_SIZE: "2" } }));
else describe.skip("SQL judge behind PgBouncer: services missing", () => {});
