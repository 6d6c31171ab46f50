/**
 * Bun Worker running processFile off the main thread, one job per Worker:
 * the server keeps answering while a large image decodes, the lease keeps
 * being renewed, and a job past its time limit is ended by terminate().
 */
import { processAvatar, processFile } from "./process";
import type { FileKind } from "./sniff";

declare const self: Worker;

self.onmessage = async (e: MessageEvent<{ kind: FileKind; bytes: Uint8Array; avatar?: boolean }>) => {
  try {
    const { kind, bytes, avatar } = e.data;
    // Copied, not transferred: codec output may be a view into a shared pool buffer.
    self.postMessage({ ok: true, out: avatar ? await processAvatar(kind, bytes) : await processFile(kind, bytes) });
  } catch (err) {
    self.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
};
