import { describe } from "bun:test";
import { postgresAvailable, redisAvailable } from "../../helpers/services";
import { filesSuite } from "./files.suite";

const ok = (await redisAvailable()) && (await postgresAvailable());
if (ok) filesSuite("PostgreSQL + Redis", "postgres", { redisDb: 10 });
else describe.skip("files (PostgreSQL + Redis): services missing", () => {});
