import { buildTestRuntime } from "../../helpers/runtime";
import { judgeSuite } from "./judge.suite";

judgeSuite("PGlite sandbox + memory queue", () => buildTestRuntime("pglite", { listen: true, config: { WORKER_CONCURRENCY: "1", RUNNER_POOL_SIZE: "1" } }));
