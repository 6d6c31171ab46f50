import { buildTestRuntime } from "../../helpers/runtime";
import { chatHttpSuite } from "./chat-http.suite";

chatHttpSuite("PGlite + memory engine", () => buildTestRuntime("pglite"));
