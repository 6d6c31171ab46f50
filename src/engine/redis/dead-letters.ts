/** DeadLetters on the `chat:persist:dead` stream; see the port in ../types.ts. */
import type { ChatMessage, DeadLetter, DeadLetters } from "../types";
import { guard, type Conn } from "./connection";
import * as keys from "./keys";

export class RedisDeadLetters implements DeadLetters {
  constructor(private readonly conn: Conn) {}

  async add(message: ChatMessage, reason: string): Promise<void> {
    await guard(this.conn, (c) => c.xadd(keys.chatDeadLetters, "*", "m", JSON.stringify(message), "err", reason, "at", new Date().toISOString()));
  }

  async list(max: number): Promise<DeadLetter[]> {
    const raw = (await guard(this.conn, (c) => c.xrange(keys.chatDeadLetters, "-", "+", "COUNT", max))) as [string, string[]][];
    return raw.map(([id, fields]) => {
      const f = Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]]));
      return { id, message: JSON.parse(f.m!) as ChatMessage, reason: f.err ?? "", at: f.at ?? "" };
    });
  }

  async remove(ids: string[]): Promise<void> {
    if (ids.length) await guard(this.conn, (c) => c.xdel(keys.chatDeadLetters, ...ids));
  }

  count(): Promise<number> {
    return guard(this.conn, (c) => c.xlen(keys.chatDeadLetters));
  }
}
