/**
 * Runs processFile in a fresh child process per job (see process-child.ts).
 * Outcomes: the result; FileRejected when the content itself is the problem
 * (undecodable, too large, past the time limit), which is final; any other
 * error (the process died) may succeed on another attempt.
 */
import { FILE_CHILD_COMMAND, selfCommand } from "../../lib/self-command";
import type { ProcessOutput } from "./process";
import type { FileKind } from "./sniff";

/** `signal` aborts the job (the actor is stopping): the process is killed and the call rejects. */
export type Processor = (kind: FileKind, bytes: Uint8Array, signal?: AbortSignal) => Promise<ProcessOutput>;

/** A problem with the file's content: retrying cannot help. */
export class FileRejected extends Error {
  override name = "FileRejected";
}

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
    let settled = false;
    const done = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      settle();
    };
    const child = Bun.spawn(selfCommand(FILE_CHILD_COMMAND), {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "inherit",
      // Structured clone: the bytes travel as bytes, not as JSON.
      serialization: "advanced",
      ipc: (msg: { ok: true; out: T } | { ok: false; error: string }) => done(() => (msg.ok ? resolve(msg.out) : reject(new FileRejected(msg.error)))),
      onExit: (_p, code, sig) => done(() => reject(new Error(`file processing process exited without an answer (${sig ?? `code ${code}`})`))),
    });
    const timer = setTimeout(() => done(() => reject(new FileRejected(`processing took longer than ${timeoutMs / 1000} s`))), timeoutMs);
    signal?.addEventListener("abort", () => done(() => reject(new Error("file processing aborted"))), { once: true });
    child.send(message);
  });
}
