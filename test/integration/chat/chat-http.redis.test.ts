import { describe } from "bun:test";
import { buildTestRuntime } from "../../helpers/runtime";
import { postgresAvailable, redisAvailable } from "../../helpers/services";
import { chatHttpSuite } from "./chat-http.suite";

const ok = (await redisAvailable()) && (await postgresAvailable());
if (ok) chatHttpSuite("PostgreSQL + Redis", () => buildTestRuntime("postgres", { redisDb: 4 }));
else describe.skip("chat over HTTP (PostgreSQL + Redis): services missing", () => {});
