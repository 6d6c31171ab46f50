/** In-process DeadLetters (they last as long as the process; see the port in ../types.ts). */
import type { ChatMessage, DeadLetter, DeadLetters } from "../types";

export class MemoryDeadLetters implements DeadLetters {
  private readonly entries = new Map<string, DeadLetter>();
  private next = 0;

  async add(message: ChatMessage, reason: string): Promise<void> {
    const id = `${Date.now()}-${this.next++}`;
    this.entries.set(id, { id, message: structuredClone(message), reason, at: new Date().toISOString() });
  }

  async list(max: number): Promise<DeadLetter[]> {
    return [...this.entries.values()].slice(0, max);
  }

  async remove(ids: string[]): Promise<void> {
    for (const id of ids) this.entries.delete(id);
  }

  async count(): Promise<number> {
    return this.entries.size;
  }
}
