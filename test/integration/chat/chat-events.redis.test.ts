import { describe } from "bun:test";
import { postgresAvailable, redisAvailable } from "../../helpers/services";
import { chatEventsSuite } from "./chat-events.suite";

const ok = (await redisAvailable()) && (await postgresAvailable());
if (ok) chatEventsSuite("PostgreSQL + Redis", "postgres", { redisDb: 11 });
else describe.skip("chat events (PostgreSQL + Redis): services missing", () => {});
