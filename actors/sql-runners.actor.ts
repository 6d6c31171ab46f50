/**
 * Owns the SQL runner pool: opens it through the function the composition
 * root hands over (backend, pool and catalog preparation) and closes it on
 * stop. Opening runs in the background so start-up is not held; the judge's
 * claim loops wait on `ready()`, and since they sit after this actor under a
 * rest_for_one supervisor, a restarted pool restarts them too. A runner that
 * times out replaces its own connection or Worker (counted in the pool's
 * restarts), without restarting this actor.
 */
import { Actor } from "./kernel";
import type { Sandbox } from "../src/sandbox/types";

/** What the judge's branch needs of a runner pool (src/sandbox/pool.ts is one). */
export interface RunnerPoolLike extends Sandbox {
  readonly kind: string;
  stats(): { restarts: number[] };
}

export class SqlRunnersActor extends Actor<never> {
  pool: RunnerPoolLike | undefined;
  private readonly opened: Promise<RunnerPoolLike>;
  private resolveOpened!: (pool: RunnerPoolLike) => void;
  private opening?: Promise<void>;

  constructor(private readonly open: () => Promise<RunnerPoolLike>) {
    super({ name: "sql-runners", mailbox: { capacity: 1, overflow: "reject" } });
    this.opened = new Promise((resolve) => (this.resolveOpened = resolve));
  }

  protected override onStart() {
    this.opening = (async () => {
      const pool = await this.open();
      if (this.signal.aborted) return void (await pool.close());
      this.pool = pool;
      this.resolveOpened(pool);
    })().catch((err) => this.crash(err));
  }

  /** The pool once it is open; pending until then (a failed open crashes this actor instead). */
  ready(): Promise<RunnerPoolLike> {
    return this.opened;
  }

  protected override async onStop() {
    await this.opening;
    await this.pool?.close();
    this.pool = undefined;
  }

  protected handle() {}
}
