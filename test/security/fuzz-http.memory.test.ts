import { buildTestRuntime } from "../helpers/runtime";
import { fuzzHttpSuite } from "./fuzz-http.suite";

fuzzHttpSuite("PGlite + memory engine", () => buildTestRuntime("pglite"));
