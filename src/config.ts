/**
 * Every environment variable Huddle reads, in one schema. A bad value stops
 * start-up with a message naming the variable, so misconfiguration never
 * shows up later as a confusing runtime error.
 */
// Plain TypeBox (what Elysia's `t` is built on): Elysia's t.Integer also accepts numeric
// strings without converting them, which would let "500" through as a string here.
import { Type as t } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { parseTrustedProxies } from "./lib/client-ip";
import { isSecretName, redactSecrets } from "./lib/redact";

const Int = (def: number, min: number, max: number, description: string) =>
  t.Integer({ default: def, minimum: min, maximum: max, description });

/** One REDIS_CLUSTER_NODES entry: `host:port`, or a redis(s):// URL with credentials. */
const CLUSTER_NODE = "(?:rediss?://[^,\\s]+|[^,\\s:/@]+:[0-9]{1,5})";

export const ConfigSchema = t.Object({
  NODE_ENV: t.Union([t.Literal("development"), t.Literal("production"), t.Literal("test")], { default: "development" }),
  PORT: Int(3000, 0, 65535, "HTTP port"),
  HOST: t.String({ default: "0.0.0.0", minLength: 1 }),
  DATABASE_URL: t.Optional(t.String({ pattern: "^postgres(ql)?://", description: "PostgreSQL; absent -> embedded PGlite in DATA_DIR" })),
  DATABASE_POOLER: t.Union([t.Literal("session"), t.Literal("transaction")], {
    default: "session", description: "transaction: DATABASE_URL is a transaction-pooling PgBouncer (no prepared statements, no session state over it)",
  }),
  DATABASE_DIRECT_URL: t.Optional(t.String({ pattern: "^postgres(ql)?://", description: "PostgreSQL itself, for migrations, the SQL sandbox and anything needing a session; default DATABASE_URL" })),
  REDIS_URL: t.Optional(t.String({ pattern: "^rediss?://", description: "Redis; absent -> in-process memory engine" })),
  REDIS_CLUSTER_NODES: t.Optional(t.String({ pattern: `^${CLUSTER_NODE}(,${CLUSTER_NODE})*$`, description: "Redis Cluster seed nodes host:port,... (one may be a rediss?:// URL carrying password/TLS); used instead of REDIS_URL" })),
  REDIS_WAIT_REPLICAS: Int(0, 0, 16, "a chat message is acknowledged only once this many Redis replicas have it (WAIT); 0 = don't wait"),
  DATA_DIR: t.String({ default: "./data", minLength: 1 }),
  JWT_SECRET: t.Optional(t.String({ minLength: 32, description: "HMAC secret for tokens, at least 32 chars" })),
  LOG_LEVEL: t.Union(["trace", "debug", "info", "warn", "error", "silent"].map((l) => t.Literal(l)), { default: "info" }),
  CORS_ORIGINS: t.String({ default: "", description: "comma-separated allow-list; empty = same-origin only" }),
  ROLE: t.Union([t.Literal("all"), t.Literal("api"), t.Literal("worker")], { default: "all" }),
  INSTANCE_ID: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
  MAX_BODY_BYTES: Int(1_048_576, 1024, 64 * 1024 * 1024, "largest accepted request body"),
  ACCESS_TOKEN_TTL_SEC: Int(900, 10, 86_400, "access token lifetime"),
  REFRESH_TOKEN_TTL_SEC: Int(604_800, 60, 90 * 86_400, "refresh token lifetime"),
  WORKER_CONCURRENCY: t.Optional(t.Integer({ minimum: 0, maximum: 64, description: "worker actors claiming SQL jobs; default 2 on the PGlite sandbox (embedded), 16 on PostgreSQL" })),
  RUNNER_POOL_SIZE: t.Optional(t.Integer({ minimum: 1, maximum: 32, description: "SQL runners; default 1 on the PGlite sandbox (embedded), 8 on PostgreSQL" })),
  SQL_TIMEOUT_MS: Int(2000, 100, 60_000, "wall-clock limit per SQL job"),
  SQL_OUTPUT_BYTES: Int(4 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024, "largest result (cell text, bytes) one SQL job may return"),
  SANDBOX_DATABASE_URL: t.Optional(t.String({ pattern: "^postgres(ql)?://" })),
  SANDBOX_BACKEND: t.Optional(t.Union([t.Literal("postgres"), t.Literal("pglite")])),
  SANDBOX_MEMORY_MB: Int(256, 64, 16_384, "PGlite sandbox: a runner process past this RSS is killed and the job gets resource_limit_exceeded"),
  SANDBOX_IDLE_MS: Int(60_000, 0, 86_400_000, "PGlite sandbox: runner processes start on the first submission and stop after this long without one; 0 = never stop"),
  SANDBOX_ALLOW_WEAK: t.Boolean({ default: false, description: "production: start even when the PostgreSQL sandbox could not be fully locked down (weaknesses in /ready)" }),
  PGLITE_SHARED_BUFFERS_MB: Int(16, 1, 1024, "shared_buffers of every PGlite instance (embedded database, sandbox runners)"),
  PGLITE_RUNNER_JIT: t.Union([t.Literal("baseline"), t.Literal("optimizing")], { default: "baseline", description: "PGlite sandbox runners: `baseline` compiles PostgreSQL's WASM with the engine's baseline tier only (about 25 MB less per runner; CPU-heavy queries about 1.8x slower), `optimizing` also with its optimizing tier" }),
  GC_STEP_MB: t.Optional(t.Integer({ minimum: 0, maximum: 4096, description: "a full garbage collection whenever RSS grew this much since the last one; default 32 on the embedded database, 0 (off) with DATABASE_URL" })),
  MAX_SOCKETS_PER_USER: Int(10, 1, 1000, "concurrent WebSockets per user"),
  PRESENCE_TTL_SEC: Int(60, 5, 3600, "TTL of user:{id}:online"),
  MESSAGE_EDIT_WINDOW_SEC: Int(86_400, 0, 365 * 86_400, "how long after sending a message its sender may edit it (0: never)"),
  CONVERSATION_IDLE_MS: Int(60_000, 100, 3_600_000, "idle conversation actors stop after this"),
  RATE_LIMIT_SCALE: t.Number({ default: 1, exclusiveMinimum: 0, maximum: 1_000_000, description: "multiplies every rate-limit bucket (capacity and refill); for load tests" }),
  CHAT_CACHE_TTL_SEC: Int(604_800, 0, 365 * 86_400, "a conversation idle this long leaves Redis (recent list, seq counter) and is refilled from PostgreSQL; 0 = never"),
  PERSIST_RECLAIM_MS: Int(30_000, 500, 3_600_000, "outbox entries unacknowledged this long (their instance died) are taken over"),
  HUDDLE_TEST_HOOKS: t.Boolean({ default: false, description: "tests only: mounts POST /__test/crash (fault injection); refused with NODE_ENV=production" }),
  MAX_UPLOAD_BYTES: Int(10_485_760, 1024, 100 * 1024 * 1024, "largest accepted file upload (uploads are held in memory while checked)"),
  FILE_WORKER_CONCURRENCY: Int(1, 0, 16, "file worker actors processing uploads (0: this process processes none)"),
  FILE_PROCESS_TIMEOUT_MS: Int(30_000, 100, 600_000, "wall-clock limit for processing one upload; past it the file ends as failed"),
  MAX_PENDING_UPLOADS: Int(5, 1, 1000, "uploads per user waiting or being processed at once; more get 429"),
  // S3-compatible storage for uploads when S3_BUCKET is set; otherwise DATA_DIR/files.
  S3_BUCKET: t.Optional(t.String({ minLength: 1 })),
  S3_ENDPOINT: t.Optional(t.String({ pattern: "^https?://" })),
  S3_REGION: t.Optional(t.String({ minLength: 1 })),
  S3_ACCESS_KEY_ID: t.Optional(t.String({ minLength: 1 })),
  S3_SECRET_ACCESS_KEY: t.Optional(t.String({ minLength: 1 })),
  NOTIFY_WORKER_CONCURRENCY: Int(1, 0, 16, "notification worker actors (mentions and direct messages to offline users; 0: this process runs none)"),
  SMTP_URL: t.Optional(t.String({ pattern: "^smtps?://", description: "SMTP server for notification digest emails (smtp://user:pass@host:587, smtps://...); unset: no email" })),
  NOTIFY_EMAIL_FROM: t.String({ default: "Huddle <huddle@localhost>", minLength: 3, maxLength: 200, description: "From: of digest emails" }),
  NOTIFY_EMAIL_INTERVAL_SEC: Int(900, 1, 7 * 86_400, "at most one digest email per user this often"),
  TRUSTED_PROXIES: t.String({ default: "", description: "comma-separated proxy IPs/CIDRs whose X-Forwarded-For is believed; empty = use the socket address" }),
  METRICS_TOKEN: t.Optional(t.String({ minLength: 16, description: "bearer token required by GET /metrics; unset = open" })),
});
export type Config = typeof ConfigSchema.static & { JWT_SECRET: string; INSTANCE_ID: string };

export class ConfigError extends Error {}

/** Parses `env` into a Config, throwing ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const v = env[key];
    if (v !== undefined && v !== "") raw[key] = v;
  }
  const converted = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, raw)) as Record<string, unknown>;
  const first = Value.Errors(ConfigSchema, converted).First();
  if (first) {
    const name = first.path.replace(/^\//, "") || "environment";
    // Secrets (and URLs, which carry passwords) never reach the terminal or the log collector.
    // Other URLs (S3_ENDPOINT) show with any password inside them masked.
    const shown = isSecretName(name) ? " (value redacted)" : `=${redactSecrets(JSON.stringify(raw[name] ?? ""))}`;
    throw new ConfigError(`invalid ${name}${shown}: ${first.message}`);
  }
  const cfg = converted as Config;
  try {
    parseTrustedProxies(cfg.TRUSTED_PROXIES);
  } catch (err) {
    throw new ConfigError(`invalid TRUSTED_PROXIES: ${(err as Error).message}`);
  }
  if (cfg.HUDDLE_TEST_HOOKS && cfg.NODE_ENV === "production") {
    throw new ConfigError("HUDDLE_TEST_HOOKS=1 is refused when NODE_ENV=production: it lets any client crash actors");
  }
  // Without a pooler in between, the one URL already is a direct connection.
  cfg.DATABASE_DIRECT_URL ??= cfg.DATABASE_URL;
  cfg.DATA_DIR = resolve(cfg.DATA_DIR);
  cfg.INSTANCE_ID ??= `${process.pid}-${randomBytes(3).toString("hex")}`;
  cfg.JWT_SECRET ??= devSecret(cfg);
  return cfg;
}

/**
 * Development convenience: tokens must survive a restart, so the generated
 * secret is kept in DATA_DIR. Production must be configured explicitly.
 */
function devSecret(cfg: Config): string {
  if (cfg.NODE_ENV === "production") {
    throw new ConfigError("JWT_SECRET is required when NODE_ENV=production (at least 32 characters)");
  }
  mkdirSync(cfg.DATA_DIR, { recursive: true });
  const file = join(cfg.DATA_DIR, "jwt-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = randomBytes(48).toString("base64url");
  writeFileSync(file, secret + "\n", { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
