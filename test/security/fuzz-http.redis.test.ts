import { describe } from "bun:test";
import { buildTestRuntime } from "../helpers/runtime";
import { postgresAvailable, redisAvailable } from "../helpers/services";
import { FUZZ_RUNS } from "./replay";
import { fuzzHttpSuite } from "./fuzz-http.suite";

// PostgreSQL refuses some input PGlite takes (and the reverse): a shorter run on the real stores.
const ok = (await redisAvailable()) && (await postgresAvailable());
if (ok) fuzzHttpSuite("PostgreSQL + Redis db 14", "test/security/fuzz-http.redis.test.ts", () => buildTestRuntime("postgres", { redisDb: 14 }), Math.ceil(FUZZ_RUNS / 3));
else describe.skip("HTTP fuzzing (PostgreSQL + Redis): services missing", () => {});
