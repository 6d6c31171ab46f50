/**
 * Entry point: `huddle [serve|migrate|problems import DIR] [--role all|api|worker]`.
 * Parses the command line and the environment, then hands over to the
 * composition root (src/root.ts), which builds everything; server.ts listens.
 */
import { loadConfig, ConfigError } from "./config";
import { configureLog, log } from "./lib/log";
import { redactSecrets } from "./lib/redact";
import { startServer } from "./server";
import { importPackCommand, migrateCommand, outboxReplayCommand } from "./commands";


const USAGE = `usage: huddle [serve | migrate | problems import DIR | outbox replay] [--role all|api|worker] [--port N]
  serve              start the server (default)
  migrate            apply database migrations and exit
  problems import D  load the problem pack in folder D into the sandbox and the catalog
  outbox replay      write the messages PostgreSQL refused (chat:persist:dead) again, once the cause is fixed
environment: see README.md (PORT, HOST, DATABASE_URL, REDIS_URL, DATA_DIR, JWT_SECRET, ...)`;

function parseArgs(argv: string[]): { command: string[]; env: Record<string, string> } {
  const command: string[] = [];
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    }
    const flag = /^--(role|port|host|data-dir)(?:=(.*))?$/.exec(a);
    if (flag) {
      const value = flag[2] ?? argv[++i];
      if (value === undefined) throw new ConfigError(`--${flag[1]} needs a value`);
      env[flag[1]!.toUpperCase().replace("-", "_")] = value;
    } else if (a.startsWith("-")) {
      throw new ConfigError(`unknown option ${a}\n${USAGE}`);
    } else command.push(a);
  }
  return { command: command.length ? command : ["serve"], env };
}

async function main() {
  const { command, env } = parseArgs(process.argv.slice(2));
  const config = loadConfig({ ...process.env, ...env });
  configureLog(config.LOG_LEVEL, { instance: config.INSTANCE_ID });
  const [verb, ...rest] = command;
  if (verb === "serve") return void (await startServer(config));
  if (verb === "migrate") return migrateCommand(config);
  if (verb === "outbox" && rest[0] === "replay" && rest.length === 1) return void (process.exitCode = await outboxReplayCommand(config));
  if (verb === "problems" && rest[0] === "import" && rest[1]) return importPackCommand(config, rest[1]);

  throw new ConfigError(`unknown command "${command.join(" ")}"\n${USAGE}`);
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(`huddle: ${redactSecrets(err.message)}`);
    process.exit(2);
  }
  log.fatal({ err }, "fatal error");
  // Start-up failures (database, Redis) often quote the connection URL; its password stays out.
  console.error(`huddle: ${redactSecrets(String((err as Error)?.message ?? err))}`);
  process.exit(1);
});
