import { notificationsSuite } from "./notifications.suite";
import { buildTestRuntime } from "../../helpers/runtime";

notificationsSuite("PGlite + memory engine", () => buildTestRuntime("pglite", { listen: true }));
