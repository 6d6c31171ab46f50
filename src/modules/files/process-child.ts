/**
 * One upload's processFile (or an avatar's processAvatar) in a child process (`huddle __file-child`, see
 * src/main.ts), one job per process: the server keeps answering while a large
 * image decodes, the lease keeps being renewed, and a job past its time limit
 * is ended by SIGKILL. A Bun Worker was used before, but terminate() does not
 * stop a Worker busy in WebAssembly (the WebP codec): it kept spinning and
 * holding its memory.
 */
import { processAvatar, processFile } from "./process";
import type { FileKind } from "./sniff";

process.once("message", async (msg: { kind: FileKind; bytes: Uint8Array; avatar?: boolean }) => {
  try {
    const bytes = new Uint8Array(msg.bytes);
    process.send!({ ok: true, out: msg.avatar ? await processAvatar(msg.kind, bytes) : await processFile(msg.kind, bytes) });
  } catch (err) {
    process.send!({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
process.on("disconnect", () => process.exit(0));
