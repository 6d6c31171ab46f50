/**
 * Actor: private state behind a bounded mailbox, drained one message at a time.
 *
 * Guarantees:
 * - `handle` never runs concurrently with itself, and never on the sender's
 *   call stack (draining starts on a microtask). Messages are handled in the
 *   order the mailbox accepted them.
 * - `tell` is fire-and-forget: it returns once the message is queued, or throws
 *   `MailboxFullError` / `ActorStoppedError` synchronously.
 * - `ask` always settles: with the handler's return value, the handler's own
 *   error, `AskTimeoutError`, `MailboxFullError` or `ActorStoppedError`. An ask
 *   that times out before its turn is removed and never handled.
 * - A handler that throws, a throwing `onStart`, or `crash(err)` (for failures
 *   outside any message, e.g. a background loop) ends the actor with a crash:
 *   the in-flight message finishes, queued asks are rejected, queued tells are
 *   counted in `dropped`, `onStop` runs, then watchers (the supervisor) hear
 *   the exit. The instance is never reused; a restart builds a new one.
 * - `stop()` is idempotent and always resolves, after the in-flight message and
 *   `onStop`. Inside `handle`, call `void this.stop()`: awaiting it there waits
 *   for the very message being handled, which never finishes.
 * - Messages sent before `start()` queue up and are handled once running.
 */
import { ActorStoppedError, AskTimeoutError, MailboxFullError, describeError } from "./errors";
import { kernelLog } from "./log";
import { Mailbox, type MailboxOptions } from "./mailbox";
import type { ActorRef, Child, Exit, ExitListener, LifecycleState, Snapshot } from "./types";
import { ExitWatchers } from "./watchers";

export interface ActorOptions {
  name: string;
  mailbox?: MailboxOptions;
  /** Stop with reason "idle" after this long with nothing queued or running (see canPassivate). */
  idleMs?: number;
}

interface Reply {
  settled: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer?: ReturnType<typeof setTimeout>;
}

interface Envelope<M> {
  message: M;
  reply?: Reply;
}

/** Marks the reply settled and clears its timer; false if it already was. */
function claim(reply: Reply): boolean {
  if (reply.settled) return false;
  reply.settled = true;
  if (reply.timer) clearTimeout(reply.timer);
  return true;
}

function checkIdleMs(ms: number | undefined): void {
  if (ms !== undefined && !(Number.isFinite(ms) && ms > 0)) {
    throw new RangeError(`idleMs must be a positive number, got ${ms}`);
  }
}

export abstract class Actor<M> implements Child, ActorRef<M> {
  readonly name: string;
  private currentState: LifecycleState = "starting";
  private readonly mailbox: Mailbox<Envelope<M>>;
  private readonly watchers: ExitWatchers;
  private readonly abort = new AbortController();
  private startResult?: Promise<void>;
  /** Settles (never rejects) when onStart has finished, however it ended. */
  private startSettled?: Promise<void>;
  private drainLoop?: Promise<void>;
  private termination?: Promise<void>;
  private exit?: Exit;
  private abandoned = 0;
  private lastError?: string;
  private idleMs?: number;
  private idleTimer?: ReturnType<typeof setTimeout>;

  constructor(options: ActorOptions) {
    checkIdleMs(options.idleMs);
    this.name = options.name;
    this.watchers = new ExitWatchers(options.name);
    this.mailbox = new Mailbox(options.mailbox);
    this.idleMs = options.idleMs;
  }

  /** Handles one message; the return value answers an ask. Throwing crashes the actor. */
  protected abstract handle(message: M): unknown;

  /** Acquire resources. Throwing counts as a crash (onStop still runs, so tolerate partial setup). */
  protected onStart(): void | Promise<void> {}

  /** Release resources. Runs once per started instance, after a stop or a crash. Errors are logged. */
  protected onStop(_exit: Exit): void | Promise<void> {}

  /** Asked when the idle timer fires; return false to stay alive (e.g. sockets still attached). */
  protected canPassivate(): boolean {
    return true;
  }

  /** Aborted as soon as the actor begins to stop or crash: hand it to background loops. */
  protected get signal(): AbortSignal {
    return this.abort.signal;
  }

  get state(): LifecycleState {
    return this.currentState;
  }

  /** True while tell/ask would queue the message (before start, starting, running). */
  get accepting(): boolean {
    return this.currentState === "starting" || this.currentState === "running";
  }

  tell(message: M): void {
    this.enqueue({ message });
  }

  ask<R = unknown>(message: M, timeoutMs: number): Promise<R> {
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      return Promise.reject(new RangeError(`ask timeout must be a positive number, got ${timeoutMs}`));
    }
    return new Promise<R>((resolve, reject) => {
      const reply: Reply = { settled: false, resolve: resolve as (value: unknown) => void, reject };
      const envelope: Envelope<M> = { message, reply };
      try {
        this.enqueue(envelope);
      } catch (error) {
        claim(reply);
        reject(error);
        return;
      }
      reply.timer = setTimeout(() => {
        if (!claim(reply)) return;
        this.mailbox.remove(envelope);
        reject(new AskTimeoutError(this.name, timeoutMs));
      }, timeoutMs);
      reply.timer.unref?.();
    });
  }

  start(): Promise<void> {
    if (this.startResult) return this.startResult;
    if (this.termination) return Promise.reject(new ActorStoppedError(this.name, this.exit));
    this.startResult = this.runStart();
    return this.startResult;
  }

  stop(reason = "stop"): Promise<void> {
    return this.terminate({ kind: "normal", reason });
  }

  /**
   * Reports a failure that happened outside a message (e.g. a background loop).
   * Ignored once the actor is ending: a loop failing because onStop closed its
   * connection is expected, not a crash.
   */
  crash(error: unknown): void {
    if (this.termination) return;
    void this.terminate({ kind: "crash", error });
  }

  watch(listener: ExitListener): void {
    this.watchers.add(listener);
  }

  /** Turns idle passivation on (ms) or off (undefined); used by Registry. */
  setIdleTimeout(ms: number | undefined): void {
    checkIdleMs(ms);
    this.idleMs = ms;
    this.disarmIdle();
    this.armIdle();
  }

  snapshot(): Snapshot {
    const snapshot: Snapshot = {
      name: this.name,
      kind: "root",
      state: this.currentState,
      restarts: 0,
      mailboxDepth: this.mailbox.size,
      dropped: this.mailbox.evictions + this.abandoned,
    };
    if (this.lastError !== undefined) snapshot.lastError = this.lastError;
    return snapshot;
  }

  private enqueue(envelope: Envelope<M>): void {
    if (!this.accepting) throw new ActorStoppedError(this.name, this.exit);
    const result = this.mailbox.offer(envelope);
    if (!result.accepted) throw new MailboxFullError(this.name, this.mailbox.capacity);
    const evicted = result.evicted?.reply;
    if (evicted && claim(evicted)) {
      evicted.reject(new MailboxFullError(this.name, this.mailbox.capacity, "evicted this message"));
    }
    this.disarmIdle();
    this.kick();
  }

  private async runStart(): Promise<void> {
    let failed = false;
    let failure: unknown;
    this.startSettled = (async () => {
      try {
        await this.onStart();
      } catch (error) {
        failed = true;
        failure = error;
      }
    })();
    await this.startSettled;
    if (failed) {
      await this.terminate({ kind: "crash", error: failure });
      throw failure;
    }
    if (this.currentState !== "starting") return; // stopped or crashed during onStart
    this.currentState = "running";
    this.kick();
    this.armIdle();
  }

  private kick(): void {
    if (this.currentState !== "running" || this.drainLoop) return;
    this.drainLoop = this.drain();
  }

  private async drain(): Promise<void> {
    await null; // keep handlers off the sender's stack
    while (this.currentState === "running") {
      const envelope = this.mailbox.shift();
      if (!envelope) break;
      const reply = envelope.reply;
      if (reply?.settled) continue;
      try {
        const result = await this.handle(envelope.message);
        if (reply && claim(reply)) reply.resolve(result);
      } catch (error) {
        if (reply && claim(reply)) reply.reject(error);
        this.crash(error);
      }
    }
    // Synchronous with the empty/stopping check above, so no message can be
    // queued in between and left without a drain loop.
    this.drainLoop = undefined;
    this.armIdle();
  }

  private terminate(exit: Exit): Promise<void> {
    if (this.termination) return this.termination;
    this.exit = exit;
    this.currentState = "stopping";
    this.disarmIdle();
    this.abort.abort(exit.kind === "crash" ? exit.error : exit.reason);
    this.termination = this.runTermination(exit);
    return this.termination;
  }

  private async runTermination(exit: Exit): Promise<void> {
    await this.startSettled;
    await this.drainLoop;
    for (const envelope of this.mailbox.drain()) {
      if (envelope.reply && !claim(envelope.reply)) continue; // timed out already
      this.abandoned++;
      envelope.reply?.reject(new ActorStoppedError(this.name, exit));
    }
    if (exit.kind === "crash") this.lastError = describeError(exit.error);
    if (this.startResult) {
      try {
        await this.onStop(exit);
      } catch (error) {
        this.lastError = describeError(error);
        kernelLog(`[kernel] ${this.name}: onStop failed`, error);
      }
    }
    this.currentState = exit.kind === "crash" ? "failed" : "stopped";
    this.watchers.report(exit);
  }

  private armIdle(): void {
    if (this.idleMs === undefined || this.idleTimer) return;
    if (this.currentState !== "running" || this.drainLoop || this.mailbox.size > 0) return;
    this.idleTimer = setTimeout(() => this.onIdle(), this.idleMs);
    this.idleTimer.unref?.();
  }

  private disarmIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private onIdle(): void {
    this.idleTimer = undefined;
    if (this.currentState !== "running" || this.drainLoop || this.mailbox.size > 0) return;
    let passivate = true;
    try {
      passivate = this.canPassivate();
    } catch (error) {
      kernelLog(`[kernel] ${this.name}: canPassivate failed, passivating`, error);
    }
    if (passivate) void this.stop("idle");
    else this.armIdle();
  }
}
