import { buildTestRuntime } from "../helpers/runtime";
import { fuzzHttpSuite } from "./fuzz-http.suite";

fuzzHttpSuite("PGlite + memory engine", "test/security/fuzz-http.memory.test.ts", () => buildTestRuntime("pglite"));
