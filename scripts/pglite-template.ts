/**
 * `bun run scripts/pglite-template.ts` -> src/db/pglite-template.tar.gz: an
 * initdb'd PGlite cluster, the starting point of every fresh PGlite (the
 * application database in DATA_DIR and the SQL sandbox's first snapshot).
 * Rerun it after upgrading @electric-sql/pglite (test/unit/pglite-template.test.ts
 * fails until then).
 */
import { PGlite } from "@electric-sql/pglite";
import { initdbAssets } from "../src/db/pglite";

const out = new URL("../src/db/pglite-template.tar.gz", import.meta.url);
// No loadDataDir: this one runs initdb (about 2 s); nothing else is created in it.
const pg = await PGlite.create({ ...(await initdbAssets()) });
const [{ version }] = (await pg.query<{ version: string }>("select version()")).rows as [{ version: string }];
await Bun.write(out, await pg.dumpDataDir("gzip"));
await pg.close();
console.log(`wrote ${out.pathname} (${version})`);
