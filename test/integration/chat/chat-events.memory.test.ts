import { chatEventsSuite } from "./chat-events.suite";

chatEventsSuite("PGlite + memory engine", "pglite");
