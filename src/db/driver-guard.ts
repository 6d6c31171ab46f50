/**
 * postgres.js 3.4.9 can schedule a socket write (setImmediate) that runs after
 * its connection closed; the TypeError is thrown from the immediate, where no
 * caller can catch it, and the process dies. It happens whenever PostgreSQL
 * goes away in the middle of a transaction: the driver's own ROLLBACK is that
 * write (upstream porsager/postgres#1066, #1154, #1208; fix proposed in #1209).
 * Until a release carries the fix, the serving process recognises exactly this
 * error, keeps serving (chat works on Redis meanwhile) and replaces the pool,
 * because the connection that threw never sends again. Any other uncaught
 * error still ends the process with status 1, as without a handler.
 */
import { log } from "../lib/log";
import { redactSecrets } from "../lib/redact";

export function isDriverWriteAfterClose(err: unknown): boolean {
  if (!(err instanceof TypeError)) return false;
  return /socket\.write|reading 'write'/.test(err.message) && /\bnextWrite\b/.test(err.stack ?? "");
}

let installed = false;

export function surviveDriverWriteAfterClose(replacePool: () => void): void {
  if (installed) return;
  installed = true;
  let lastReplace = 0;
  process.on("uncaughtException", (err) => {
    if (!isDriverWriteAfterClose(err)) {
      // Connection errors quote their URL: never print a password on the way out.
      console.error(redactSecrets(Bun.inspect(err)));
      process.exit(1);
    }
    log.warn({ err }, "postgres.js wrote to a closed connection (known driver bug); replacing the connection pool");
    // Several connections die together in an outage: one fresh pool is enough.
    if (Date.now() - lastReplace < 1000) return;
    lastReplace = Date.now();
    replacePool();
  });
}
