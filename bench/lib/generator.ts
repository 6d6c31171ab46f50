/** Drives a chat-load.ts process: one JSON line in, one JSON line out. */
import { spawnChild, type Child } from "./procs";
import type { ClientSpec, Target } from "./clients";

export type Generator = {
  child: Child;
  /** Sends one command and waits for its answer line. */
  ask<T = any>(cmd: object, timeoutMs?: number): Promise<T>;
  quit(): Promise<void>;
};

export async function startGenerator(name: string, target: Target, clients: ClientSpec[], roomSize: number, connectConcurrency = 50): Promise<Generator> {
  const child = spawnChild(name, ["bun", "bench/scenarios/chat-load.ts"], { stdin: true, ownStdout: true });
  const stdin = child.proc.stdin as import("bun").FileSink;
  const reader = (child.proc.stdout as ReadableStream<Uint8Array>).getReader();
  const dec = new TextDecoder();
  let buf = "";
  // A read that lost the race against the timeout is kept, never dropped with its data.
  let pending: ReturnType<typeof reader.read> | null = null;
  const nextLine = async (timeoutMs: number): Promise<string> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        return line;
      }
      const left = until - Date.now();
      if (left <= 0) throw new Error(`${name}: no answer in ${timeoutMs} ms\n${child.output()}`);
      pending ??= reader.read();
      const r = await Promise.race([pending, Bun.sleep(left).then(() => null)]);
      if (r === null) continue;
      pending = null;
      if (r.done) throw new Error(`${name} exited (${child.proc.exitCode}):\n${child.output()}`);
      buf += dec.decode(r.value);
    }
  };
  const ask = async (cmd: object, timeoutMs = 120_000) => {
    stdin.write(JSON.stringify(cmd) + "\n");
    await stdin.flush();
    const v = JSON.parse(await nextLine(timeoutMs));
    if (v.error) throw new Error(`${name}: ${v.error}`);
    return v;
  };
  await ask({ target, clients, roomSize, connectConcurrency }, 300_000);
  return {
    child, ask,
    async quit() {
      try {
        stdin.write(JSON.stringify({ cmd: "quit" }) + "\n");
        await stdin.flush();
      } catch {}
      await Promise.race([child.proc.exited, Bun.sleep(3000)]);
      await child.stop(1000);
    },
  };
}
