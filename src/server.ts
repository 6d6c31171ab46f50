/**
 * The serving process: the composition root's runtime listening on PORT. SIGTERM/SIGINT: stop
 * accepting, close sockets with a reason, let in-flight requests finish, stop
 * the actors (they flush and hand back work), close stores, exit 0.
 */
import type { Config } from "./config";
import { log } from "./lib/log";
import { startRuntime, type Runtime } from "./root";
import { surviveDriverWriteAfterClose } from "./db/driver-guard";
import { MULTIPART_OVERHEAD } from "./modules/files";

export type RunningServer = { port: number; runtime: Runtime; stop: () => Promise<void> };

export async function startServer(config: Config, opts: { installSignals?: boolean } = {}): Promise<RunningServer> {
  const runtime = await startRuntime(config);
  // Uploads may be larger than other bodies; each route enforces its own limit (plugins/headers.ts, modules/files).
  const maxRequestBodySize = Math.max(config.MAX_BODY_BYTES, config.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD);
  runtime.app.listen({ port: config.PORT, hostname: config.HOST, maxRequestBodySize });
  const port = runtime.app.server!.port!;
  log.info({ port, database: runtime.database.kind, engine: runtime.engine.kind, role: config.ROLE }, "huddle listening");
  // Start-up garbage (migrations, the default pack import, module evaluation) is released before serving idles.
  setTimeout(() => Bun.gc(true), 1000).unref();
  if (opts.installSignals !== false) {
    surviveDriverWriteAfterClose(() => runtime.database.replacePool?.());
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      process.once(sig, () => {
        log.info({ signal: sig }, "shutting down");
        runtime.stop().then(() => {
          log.info("stopped");
          process.exit(0);
        }, () => process.exit(1));
      });
    }
  }
  return { port, runtime, stop: runtime.stop };
}
