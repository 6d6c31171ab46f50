/**
 * Runs processFile in a fresh Bun Worker per job (see process.worker.ts).
 * Outcomes: the result; FileRejected when the content itself is the problem
 * (undecodable, too large, past the time limit), which is final; any other
 * error (the Worker died) may succeed on another attempt.
 */
import type { ProcessOutput } from "./process";
import type { FileKind } from "./sniff";

/** `signal` aborts the job (the actor is stopping): the Worker is ended and the call rejects. */
export type Processor = (kind: FileKind, bytes: Uint8Array, signal?: AbortSignal) => Promise<ProcessOutput>;

/** A problem with the file's content: retrying cannot help. */
export class FileRejected extends Error {
  override name = "FileRejected";
}

/**
 * From source the script sits next to this file. In the compiled binary it is
 * an extra entrypoint (scripts/build.ts) found by its path from the project
 * root, as for the SQL runner's Worker (src/sandbox/pglite-client.ts).
 */
export const PROCESS_WORKER_URL: URL | string = import.meta.url.includes("/$bunfs/")
  ? "./src/modules/files/process.worker.ts"
  : new URL("./process.worker.ts", import.meta.url);

/**
 * Default of FILE_PROCESS_TIMEOUT_MS. A 40-megapixel image takes a few seconds; the limit is what
 * one upload may hold a worker (and so everyone's thumbnails) at most.
 */
export const PROCESS_TIMEOUT_MS = 30_000;

export function workerProcessor(timeoutMs = PROCESS_TIMEOUT_MS): Processor {
  return (kind, bytes, signal) => inWorker<ProcessOutput>({ kind, bytes }, timeoutMs, signal);
}

/** Turns an uploaded image into the user's avatar (see processAvatar); FileRejected when the image is the problem. */
export type AvatarProcessor = (kind: FileKind, bytes: Uint8Array) => Promise<{ bytes: Uint8Array; type: "image/png" | "image/jpeg" }>;

/** Avatars go through the same Worker, header checks and time limit as uploaded files. */
export function workerAvatarProcessor(timeoutMs = PROCESS_TIMEOUT_MS): AvatarProcessor {
  return (kind, bytes) => inWorker({ kind, bytes, avatar: true }, timeoutMs);
}

function inWorker<T>(message: { kind: FileKind; bytes: Uint8Array; avatar?: boolean }, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(new Error("file processing aborted"));
    const worker = new Worker(PROCESS_WORKER_URL);
    let settled = false;
    const done = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.terminate();
      settle();
    };
    const timer = setTimeout(() => done(() => reject(new FileRejected(`processing took longer than ${timeoutMs / 1000} s`))), timeoutMs);
    worker.onmessage = (e: MessageEvent<{ ok: true; out: T } | { ok: false; error: string }>) => {
      const msg = e.data;
      done(() => (msg.ok ? resolve(msg.out) : reject(new FileRejected(msg.error))));
    };
    worker.onerror = (e) => done(() => reject(new Error(`file processing worker failed: ${e.message}`)));
    worker.addEventListener("close", () => done(() => reject(new Error("file processing worker exited without an answer"))));
    signal?.addEventListener("abort", () => done(() => reject(new Error("file processing aborted"))), { once: true });
    worker.postMessage(message);
  });
}
