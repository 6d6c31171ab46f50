import { describe } from "bun:test";
import { notificationsSuite } from "./notifications.suite";
import { buildTestRuntime } from "../../helpers/runtime";
import { postgresAvailable, redisAvailable } from "../../helpers/services";

const ok = (await redisAvailable()) && (await postgresAvailable());
if (ok) notificationsSuite("PostgreSQL + Redis", () => buildTestRuntime("postgres", { redisDb: 9, listen: true }));
else describe.skip("notifications (PostgreSQL + Redis): services missing", () => {});
