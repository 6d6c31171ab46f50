/**
 * Exit notification shared by actors and supervisors: every listener hears an
 * exit exactly once, including listeners added after it happened, and a
 * throwing listener cannot stop the others from hearing it.
 */
import { kernelLog } from "./log";
import type { Exit, ExitListener } from "./types";

export class ExitWatchers {
  private listeners: ExitListener[] = [];
  private reported?: Exit;

  constructor(private readonly owner: string) {}

  add(listener: ExitListener): void {
    const exit = this.reported;
    if (exit) queueMicrotask(() => listener(exit));
    else this.listeners.push(listener);
  }

  /** Tells every listener; returns how many there were (0 means nobody watches: a root). */
  report(exit: Exit): number {
    this.reported = exit;
    const listeners = this.listeners.splice(0);
    for (const listener of listeners) {
      try {
        listener(exit);
      } catch (error) {
        kernelLog(`[kernel] ${this.owner}: exit listener failed`, error);
      }
    }
    return listeners.length;
  }
}
