/**
 * A bounded FIFO queue. It never grows past `capacity`: when full it either
 * refuses the newcomer ("reject") or evicts the oldest entry ("drop-oldest") and
 * hands it back so the owner can fail any caller waiting on it. FIFO order is
 * preserved for everything it keeps.
 */

export type OverflowPolicy = "reject" | "drop-oldest";

export interface MailboxOptions {
  /** Maximum queued messages (not counting the one being handled). Default 1000. */
  capacity?: number;
  /** Default "reject". */
  overflow?: OverflowPolicy;
}

export const DEFAULT_MAILBOX_CAPACITY = 1000;

export type OfferResult<T> = { accepted: true; evicted?: T } | { accepted: false };

export class Mailbox<T> {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  /** Items evicted by drop-oldest since creation. */
  evictions = 0;
  // Array plus a moving head: O(1) shift without a ring buffer's index juggling.
  private items: T[] = [];
  private head = 0;

  constructor(options: MailboxOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_MAILBOX_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`mailbox capacity must be a positive integer, got ${capacity}`);
    }
    const overflow = options.overflow ?? "reject";
    if (overflow !== "reject" && overflow !== "drop-oldest") {
      throw new RangeError(`unknown mailbox overflow policy "${String(overflow)}"`);
    }
    this.capacity = capacity;
    this.overflow = overflow;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  offer(item: T): OfferResult<T> {
    if (this.size < this.capacity) {
      this.items.push(item);
      return { accepted: true };
    }
    if (this.overflow === "reject") return { accepted: false };
    const evicted = this.shift() as T;
    this.evictions++;
    this.items.push(item);
    return { accepted: true, evicted };
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined as T; // let it be collected
    this.head++;
    this.compact();
    return item;
  }

  /** Removes one specific queued item (an ask that timed out). O(n), rare. */
  remove(item: T): boolean {
    const index = this.items.indexOf(item, this.head);
    if (index < 0) return false;
    this.items.splice(index, 1);
    return true;
  }

  /** Empties the queue and returns what it held, oldest first. */
  drain(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
