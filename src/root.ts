/**
 * The composition root: the one file that reads the config, opens
 * connections and constructs every store, engine, service and the actor tree,
 * once, in order, handing each piece only what it uses. main.ts parses the
 * command line and calls `startRuntime` (serve) or a command of commands.ts,
 * which reuses these builders; tests build through the same functions.
 *
 * Arrows: main -> root -> (modules, actors) -> ports (engine, sandbox,
 * storage, db) -> adapters. Modules and actors never import each other: the
 * actors get ports and plain handlers, the modules get refs, both from here.
 */
import { StepCollector } from "./lib/step-gc";
import type { AnyElysia } from "elysia";
import type { Config } from "./config";
import { openDatabase, type Database, type DatabaseOptions } from "./db/client";
import { migrateDatabase } from "./db/migrate";
import { createEngine, chatChannel, type Engine } from "./engine";
import { log } from "./lib/log";
import { clientIpResolver } from "./lib/client-ip";
import { createApp, type AppDeps } from "./app";
import { createRateLimit, scaledBuckets, DEFAULT_BUCKETS, type Bucket } from "./plugins/rate-limit";
import { exposeActorMetrics } from "./plugins/actor-metrics";
import { exposeStoreMetrics, storeWarnings } from "./plugins/store-metrics";
import { createRunnerPool, keptSnapshots, lazyRunnerPool, openSandboxBackend, type SandboxBackend, type SandboxSettings } from "./sandbox";
import { TokenService } from "./modules/auth/tokens";
import { TokenGenerations } from "./modules/auth/generations";
import { AuthService } from "./modules/auth/service";
import { UsersService } from "./modules/users/service";
import { AvatarService } from "./modules/users/avatar";
import { ChatRepo } from "./modules/chat/repo";
import { ChatService } from "./modules/chat/service";
import { MessageWriter } from "./modules/chat/persist";
import { NativeFanOut } from "./modules/chat/fanout";
import { SocketHub } from "./modules/chat/hub";
import { CLOSE, type Connection } from "./modules/chat/connection";
import { RoomsService } from "./modules/rooms/service";
import { RoomAdmin } from "./modules/rooms/admin";
import { MessageChanges } from "./modules/chat/changes";
import { ChatSearch } from "./modules/chat/search";
import { ProblemsService } from "./modules/problems/service";
import { JUDGE_MAX_ATTEMPTS, QUEUE, SubmissionJobs } from "./modules/problems/jobs";
import { defaultPackCatalogued, prepareSandbox } from "./modules/problems/catalog";
import { ProblemRuns, type RunnerSlot } from "./modules/problems/runs";
import { FilesService } from "./modules/files/service";
import { FILE_LEASE_MS, FILE_MAX_ATTEMPTS, FILES_QUEUE, FileJobs } from "./modules/files/jobs";
import { workerAvatarProcessor, workerProcessor, type Processor } from "./modules/files/processor";
import { createStorage, type StorageSettings } from "./modules/files/storage";
import { testHooksModule } from "./modules/testhooks";
import { NotificationsService } from "./modules/notifications/service";
import { NOTIFICATIONS_QUEUE, NOTIFY_LEASE_MS, NOTIFY_MAX_ATTEMPTS, NotificationJobs } from "./modules/notifications/jobs";
import { DigestMailer, smtpMailer } from "./modules/notifications/digest";
import { startActorSystem, type ActorSystem } from "../actors/system";

const DRAIN_MS = 500;

export type Stores = { database: Database; engine: Engine };

/** What tests may hand in instead of what config would build. */
export type Given = Partial<Stores> & { buckets?: Record<string, Bucket>; fileProcessor?: Processor; modules?: ((s: Services) => AnyElysia)[] };

/** The database settings (DATABASE_URL, DATABASE_DIRECT_URL, DATABASE_POOLER, DATA_DIR). */
export const databaseOptions = (c: Config, poolSize?: number): DatabaseOptions => ({
  databaseUrl: c.DATABASE_URL, directUrl: c.DATABASE_DIRECT_URL, pooler: c.DATABASE_POOLER, dataDir: c.DATA_DIR, poolSize,
  sharedBuffersMb: c.PGLITE_SHARED_BUFFERS_MB,
});

export async function openStores(config: Config, given: Partial<Stores> = {}, poolSize?: number): Promise<Stores> {
  const database = given.database ?? (await openDatabase(databaseOptions(config, poolSize)));
  // Redis connects while the database migrates (each is a round trip or more of its own at start-up).
  const connecting = given.engine ? Promise.resolve(given.engine) : createEngine({
    redisUrl: config.REDIS_URL, redisClusterNodes: config.REDIS_CLUSTER_NODES, waitReplicas: config.REDIS_WAIT_REPLICAS,
    // A dead instance's outbox shards wait this long for a new reader: short, and never past the reclaim time.
    outboxLeaseMs: Math.min(config.PERSIST_RECLAIM_MS, 5_000), chatTtlSec: config.CHAT_CACHE_TTL_SEC,
  });
  connecting.catch(() => {}); // awaited below; a failure meanwhile is not an unhandled rejection
  try {
    // Migrations take an advisory lock: over a session (DATABASE_DIRECT_URL behind a transaction pooler).
    await migrateDatabase(database);
  } catch (err) {
    if (!given.engine) await connecting.then((e) => e.close()).catch(() => {});
    throw err;
  }
  return { database, engine: await connecting };
}

export const storageSettings = (c: Config): StorageSettings => ({
  dataDir: c.DATA_DIR,
  ...(c.S3_BUCKET ? { s3: { bucket: c.S3_BUCKET, endpoint: c.S3_ENDPOINT, region: c.S3_REGION, accessKeyId: c.S3_ACCESS_KEY_ID, secretAccessKey: c.S3_SECRET_ACCESS_KEY } } : {}),
});

/** PostgreSQL next to the application database (its own database), unless SANDBOX_BACKEND or SANDBOX_DATABASE_URL say otherwise; else PGlite. */
export function sandboxSettings(c: Config): SandboxSettings {
  const kind = c.SANDBOX_BACKEND ?? (c.DATABASE_URL ? "postgres" : "pglite");
  if (kind === "pglite") return { kind, memoryLimitMb: c.SANDBOX_MEMORY_MB, sharedBuffersMb: c.PGLITE_SHARED_BUFFERS_MB, workDir: `${c.DATA_DIR}/sandbox`, jit: c.PGLITE_RUNNER_JIT };
  // PostgreSQL itself, never a transaction pooler: runners cancel a running query by its backend's pid,
  // and setup creates roles and databases over a session (DATABASE_DIRECT_URL).
  const directUrl = c.DATABASE_DIRECT_URL ?? c.DATABASE_URL;
  const adminUrl = c.SANDBOX_DATABASE_URL ?? directUrl;
  if (!adminUrl) throw new Error("SANDBOX_BACKEND=postgres needs DATABASE_URL or SANDBOX_DATABASE_URL");
  // One sandbox database per application database, so two deployments (or test runs) never share one.
  const appDb = new URL(directUrl ?? adminUrl).pathname.slice(1) || "postgres";
  return { kind, adminUrl, database: c.SANDBOX_DATABASE_URL ? new URL(adminUrl).pathname.slice(1) : `${appDb}_sandbox`.slice(0, 63) };
}

/** GC_STEP_MB, or on for the embedded default (small machines: bursts of work must not spend the RSS budget on garbage), off with PostgreSQL. */
export const gcStepMb = (c: Config): number => c.GC_STEP_MB ?? (c.DATABASE_URL ? 0 : 32);

/** RUNNER_POOL_SIZE, or by backend: one PGlite runner (a process of a few hundred MB), eight PostgreSQL connections. */
export const runnerPoolSize = (c: Config): number => c.RUNNER_POOL_SIZE ?? (sandboxSettings(c).kind === "pglite" ? 1 : 8);

/**
 * WORKER_CONCURRENCY, or by backend. A worker spends most of a job waiting (on PostgreSQL's writes,
 * a runner, Redis), so twice as many workers as runners keep the runners busy: 16 on PostgreSQL
 * (bench/RESULTS.md: 8 workers on 4 runners judged 498-505 trivial jobs/s, 16 on 8 615-617/s); 2 on one PGlite runner.
 */
export const workerConcurrency = (c: Config): number => c.WORKER_CONCURRENCY ?? (sandboxSettings(c).kind === "pglite" ? 2 : 16);

/** Every service, each constructed exactly once. */
export function buildServices(config: Config, { database, engine }: Stores, given: Given = {}) {
  const db = database.db;
  const generations = new TokenGenerations(db, engine.broker);
  const tokens = new TokenService(config.JWT_SECRET, config.ACCESS_TOKEN_TTL_SEC, config.REFRESH_TOKEN_TTL_SEC, generations);
  const limit = createRateLimit(engine.rateLimiter, given.buckets ?? scaledBuckets(config.RATE_LIMIT_SCALE, DEFAULT_BUCKETS));
  const storage = createStorage(storageSettings(config));
  const chatRepo = new ChatRepo(db);
  const chat = new ChatService(chatRepo, engine, limit);
  const notificationJobs = new NotificationJobs(db, engine);
  chat.onSent((m) => notificationJobs.enqueue(m));
  // Filled when this instance's judge opens its runner pool (startActors); `POST /problems/run` uses it.
  const runnerSlot: RunnerSlot = { current: null };
  const auth = new AuthService(db, tokens, generations);
  const rooms = new RoomsService(db, chat, limit);
  return {
    config, database, engine, generations, tokens, limit, storage, chat, auth, runnerSlot, rooms,
    changes: new MessageChanges(chat, chatRepo, engine, limit, { editWindowSec: config.MESSAGE_EDIT_WINDOW_SEC }),
    roomAdmin: new RoomAdmin(db, chat, rooms, engine),
    search: new ChatSearch(db, limit),
    users: new UsersService(db, engine.presence, auth),
    avatars: new AvatarService(db, storage, workerAvatarProcessor(config.FILE_PROCESS_TIMEOUT_MS), config.MAX_UPLOAD_BYTES),
    problems: new ProblemsService(db, engine, limit),
    problemRuns: new ProblemRuns(db, limit, runnerSlot, { timeoutMs: config.SQL_TIMEOUT_MS, maxWaiting: 2 * runnerPoolSize(config) }),
    files: new FilesService(db, engine, storage, chat, config.MAX_UPLOAD_BYTES, config.MAX_PENDING_UPLOADS),
    submissions: new SubmissionJobs(db, engine, config.SQL_TIMEOUT_MS, config.SQL_OUTPUT_BYTES),
    fileJobs: new FileJobs(db, engine, storage, chat, given.fileProcessor ?? workerProcessor(config.FILE_PROCESS_TIMEOUT_MS)),
    messageWriter: new MessageWriter(db, engine.deadLetters),
    notifications: new NotificationsService(db, chat),
    notificationJobs,
    ...(config.SMTP_URL ? { digest: new DigestMailer(db, smtpMailer(config.SMTP_URL), { intervalSec: config.NOTIFY_EMAIL_INTERVAL_SEC, from: config.NOTIFY_EMAIL_FROM }) } : {}),
  };
}
export type Services = ReturnType<typeof buildServices>;

/** The HTTP app without sockets or actors (tests that go through `app.handle`). */
export function buildApp(services: Services, extra: Partial<AppDeps<Services>> = {}) {
  const { config, database, engine } = services;
  return createApp<Services>({
    services,
    http: {
      corsOrigins: config.CORS_ORIGINS, maxBodyBytes: config.MAX_BODY_BYTES, maxUploadBytes: config.MAX_UPLOAD_BYTES,
      ...(config.METRICS_TOKEN ? { metricsToken: config.METRICS_TOKEN } : {}), clientIp: clientIpResolver(config.TRUSTED_PROXIES),
    },
    checks: [
      { name: "database", check: () => database.ping() },
      engine.kind === "redis"
        ? { name: "redis", check: () => redisCheck(engine, config.NODE_ENV === "production") }
        : { name: "outbox", check: async () => ((w) => (w.length ? { warnings: w } : undefined))(await deadLetterWarnings(engine)) },
      ...(extra.checks ?? []),
    ],
    ...(extra.hub ? { hub: extra.hub } : {}),
    ...(extra.isDraining ? { isDraining: extra.isDraining } : {}),
    ...(extra.modules ? { modules: extra.modules } : {}),
  });
}

/** Redis answers; in production, warnings (not failures) when it may evict or has no persistence (README: durability). */
async function redisCheck(engine: Engine, production: boolean) {
  await engine.ping();
  const warnings = [...(production ? storeWarnings(await engine.info()) : []), ...(await deadLetterWarnings(engine))];
  return warnings.length ? { warnings } : undefined;
}

/** Dead letters never fail readiness (the server works), but operators must see them. */
async function deadLetterWarnings(engine: Engine): Promise<string[]> {
  const n = await engine.deadLetters.count();
  return n ? [`${n} message(s) refused by PostgreSQL are kept in chat:persist:dead; fix the cause, then run \`huddle outbox replay\``] : [];
}

/**
 * In production a PostgreSQL sandbox is opened (and its weaknesses checked) before start-up completes,
 * so a refused one stops the process instead of crashing the judge's branch over and over.
 */
const sandboxCheckedFirst = (c: Config) =>
  c.NODE_ENV === "production" && sandboxSettings(c).kind === "postgres" && c.ROLE !== "api" && workerConcurrency(c) > 0;

/** Production refuses a sandbox that could not be locked down unless SANDBOX_ALLOW_WEAK accepts it. */
const openCheckedSandbox = (c: Config) =>
  openSandboxBackend(sandboxSettings(c), { refuseWeak: c.NODE_ENV === "production" && !c.SANDBOX_ALLOW_WEAK });

/**
 * The supervision tree for this role: every role persists; `api` runs no judge or file workers.
 * `sandbox.weaknesses` is filled when the judge's runner pool opens its backend (src/sandbox/weaknesses.ts);
 * /ready shows it. One holder per runtime, so two runtimes in one process (tests) never mix theirs.
 * `early`: the sandbox backend startRuntime began opening, when sandboxCheckedFirst.
 */
async function startActors(config: Config, s: Services, fanOut: NativeFanOut, sandbox: { weaknesses: readonly string[] }, early?: Promise<SandboxBackend>): Promise<ActorSystem<Connection>> {
  const { database, engine } = s;
  const working = config.ROLE !== "api";
  // A lease comfortably longer than one SQL job, renewed every third of it while the job runs.
  const judgeLeaseMs = Math.max(10_000, config.SQL_TIMEOUT_MS * 3);
  const settings = sandboxSettings(config);
  const size = runnerPoolSize(config);
  const openPool = async (opened?: Promise<SandboxBackend>) => {
    const backend = await (opened ?? openCheckedSandbox(config));
    sandbox.weaknesses = backend.weaknesses?.() ?? [];
    const pool = createRunnerPool(backend, size);
    try {
      await prepareSandbox(database.db, pool, keptSnapshots(backend, settings));
    } catch (err) {
      await pool.close().catch(() => {});
      throw err;
    }
    log.info({ backend: pool.kind, size }, "sql runners ready");
    return pool;
  };
  // PGlite runners are processes of a few hundred MB: started by the first submission, stopped when idle.
  const lazy = settings.kind === "pglite" && config.SANDBOX_IDLE_MS > 0;
  let first = sandboxCheckedFirst(config) ? await openPool(early) : undefined;
  const openLazy = async () => {
    const pool = lazyRunnerPool(settings.kind, () => openPool(), config.SANDBOX_IDLE_MS);
    // A fresh catalog has no problems to submit to until the sandbox has imported the default pack once.
    if (!(await defaultPackCatalogued(database.db))) void pool.warm().catch((err) => log.error({ err }, "the default problem pack could not be imported"));
    return pool;
  };
  const openRunners = async () => {
    const pool = first ?? (lazy ? await openLazy() : await openPool());
    first = undefined;
    s.runnerSlot.current = pool;
    return pool;
  };
  return startActorSystem<Connection>({
    instanceId: config.INSTANCE_ID,
    conversations: { source: (id, handler) => engine.broker.subscribe(chatChannel(id), handler), delivery: fanOut, idleMs: config.CONVERSATION_IDLE_MS },
    persister: { outbox: engine.outbox, writer: s.messageWriter, reclaimMs: config.PERSIST_RECLAIM_MS },
    canary: { broker: engine.broker, channel: `huddle:canary:${config.INSTANCE_ID}` },
    ...(working && workerConcurrency(config) > 0 ? {
      judge: { queue: engine.queue(QUEUE), jobs: s.submissions, openRunners, concurrency: workerConcurrency(config), leaseMs: judgeLeaseMs, maxAttempts: JUDGE_MAX_ATTEMPTS },
    } : {}),
    ...(working && config.FILE_WORKER_CONCURRENCY > 0 ? {
      files: { queue: engine.queue(FILES_QUEUE), handler: s.fileJobs, concurrency: config.FILE_WORKER_CONCURRENCY, leaseMs: FILE_LEASE_MS, maxAttempts: FILE_MAX_ATTEMPTS, handBackOnFailure: true },
    } : {}),
    ...(working && config.NOTIFY_WORKER_CONCURRENCY > 0 ? {
      notifications: { queue: engine.queue(NOTIFICATIONS_QUEUE), handler: s.notificationJobs, concurrency: config.NOTIFY_WORKER_CONCURRENCY, leaseMs: NOTIFY_LEASE_MS, maxAttempts: NOTIFY_MAX_ATTEMPTS, handBackOnFailure: true },
    } : {}),
    // Sweeps often enough that a digest goes out within a few seconds of being due (the interval itself is per user).
    ...(working && s.digest ? { digest: { everyMs: Math.min(30_000, Math.max(500, config.NOTIFY_EMAIL_INTERVAL_SEC * 250)), sweep: () => s.digest!.sweep() } } : {}),
  });
}

export type Runtime = {
  app: ReturnType<typeof createApp>;
  config: Config;
  database: Database;
  engine: Engine;
  services: Services;
  system: ActorSystem<Connection>;
  /** Stops in order: sockets, HTTP, actors (they flush and hand work back), stores. Idempotent. */
  stop(): Promise<void>;
  draining(): boolean;
};

/** A whole running Huddle: stores, services, actors, sockets and the app (not yet listening). */
export async function startRuntime(config: Config, given: Given = {}): Promise<Runtime> {
  // A sandbox checked before start-up completes is set up while the stores open: its connections and
  // statements (setup is re-applied at every start) were a third of a production start on PostgreSQL.
  const early = sandboxCheckedFirst(config) ? openCheckedSandbox(config) : undefined;
  early?.catch(() => {}); // awaited by startActors; a refusal meanwhile is not an unhandled rejection
  let stores: Stores;
  try {
    stores = await openStores(config, given);
  } catch (err) {
    await early?.then((b) => b.close()).catch(() => {});
    throw err;
  }
  const services = buildServices(config, stores, given);
  const { database, engine, chat } = services;
  const unwatchImports = await services.submissions.watchImports().catch(() => async () => {});
  // Password changes on other instances reach this one's token-generation cache at once.
  const unwatchSessions = await services.generations.watch().catch(() => async () => {});
  const sandbox: { weaknesses: readonly string[] } = { weaknesses: [] };
  const fanOut = new NativeFanOut();
  const stepGc = gcStepMb(config) > 0 ? new StepCollector(gcStepMb(config)) : null;
  const system = await startActors(config, services, fanOut, sandbox, early);
  exposeActorMetrics({ snapshot: () => system.snapshot(), runnerRestarts: () => system.runnerRestarts() });
  exposeStoreMetrics(engine);
  const hub = new SocketHub(system.conversations, engine.broker, engine.presence, chat, services.users, {
    presenceTtlSec: config.PRESENCE_TTL_SEC, maxSocketsPerUser: config.MAX_SOCKETS_PER_USER,
  }, fanOut);
  chat.attachLocalDelivery(hub);
  let draining = false;
  const app = buildApp(services, {
    hub,
    isDraining: () => draining,
    checks: [
      { name: "actors", check: async () => actorHealth(system) },
      { name: "pubsub", check: async () => system.canaryCheck() },
      // What a sandbox set up without a superuser could not lock down: a warning, not a failure (README: the SQL sandbox).
      { name: "sandbox", check: async () => (sandbox.weaknesses.length ? { warnings: sandbox.weaknesses } : undefined) },
    ],
    // Fault injection for tests only (config.ts refuses it in production).
    modules: [...(given.modules ?? []), ...(config.HUDDLE_TEST_HOOKS ? [() => testHooksModule(system.crash)] : [])],
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      draining = true;
      const steps: [string, () => Promise<unknown>][] = [
        ["sockets", async () => hub.closeAll(CLOSE.shutdown)],
        // Keep serving briefly (answers now say Connection: close and /ready 503): requests already on
        // their way are read and answered instead of meeting a closed keep-alive connection.
        ["drain", async () => app.server && (await Bun.sleep(DRAIN_MS))],
        ["http", async () => app.server && (await app.stop(false))],
        ["actors", () => system.stop()],
        ["imports", () => unwatchImports()],
        ["sessions", () => unwatchSessions()],
        ["engine", () => engine.close()],
        ["database", () => database.close()],
        ["gc", async () => stepGc?.stop()],
      ];
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (err) {
          log.warn({ err, step: name }, "shutdown step failed");
        }
      }
    })());
  return { app, config, database, engine, services, system, stop, draining: () => draining };
}

/** Fails when a permanent child (at any depth, e.g. a judge claim loop) is not running (crashed and waiting for its restart). */
function actorHealth(system: ActorSystem<Connection>) {
  type Node = ReturnType<ActorSystem<Connection>["snapshot"]>;
  const down: string[] = [];
  const restarts: Record<string, number> = {};
  const visit = (nodes: Node[] = []) => {
    for (const c of nodes) {
      if (c.kind === "permanent" && c.state !== "running") down.push(`${c.name}:${c.state}`);
      restarts[c.name] = c.restarts;
      // Keyed children (one actor per conversation) are summed, like in /metrics.
      if (c.name === "conversations") restarts["conversations/*"] = (c.children ?? []).reduce((n, x) => n + x.restarts, 0);
      else visit(c.children);
    }
  };
  visit(system.snapshot().children);
  if (down.length) throw new Error(`not running: ${down.join(", ")}`);
  return { restarts };
}
