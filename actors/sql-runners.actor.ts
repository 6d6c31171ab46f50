/**
 * Owns the SQL runner pool: opens the sandbox backend, brings it in line with
 * the catalog (default pack, and every pack for an in-memory sandbox), and
 * closes it on stop. Preparation runs in the background so start-up is not
 * held; workers wait until `pool` is set. A runner that times out replaces
 * its own connection or Worker (counted in the pool's restarts).
 */
import { Actor } from "./kernel/index.ts";
import type { RunnerPool } from "./sql-runner/pool";
import type { Config } from "../src/config";
import type { Db } from "../src/db/client";
import { createPool, openSandboxBackend, prepareSandbox } from "../src/judge/catalog";
import { log } from "../src/lib/log";

export class SqlRunnersActor extends Actor<never> {
  pool: RunnerPool | undefined;
  private opening?: Promise<void>;

  constructor(private readonly config: Config, private readonly db: Db) {
    super({ name: "sql-runners", mailbox: { capacity: 1, overflow: "reject" } });
  }

  protected override onStart() {
    this.opening = (async () => {
      const pool = createPool(await openSandboxBackend(this.config), this.config);
      try {
        await prepareSandbox(this.db, pool);
      } catch (err) {
        await pool.close().catch(() => {});
        throw err;
      }
      if (this.signal.aborted) return void (await pool.close());
      this.pool = pool;
      log.info({ backend: pool.kind, size: this.config.RUNNER_POOL_SIZE }, "sql runners ready");
    })().catch((err) => this.crash(err));
  }

  protected override async onStop() {
    await this.opening?.catch(() => {});
    await this.pool?.close();
    this.pool = undefined;
  }

  protected handle() {}
}
