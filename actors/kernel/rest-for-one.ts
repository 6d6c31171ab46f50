/**
 * The rest_for_one restart sequence of a Supervisor. It lives in its own file
 * so supervisor.ts stays short and readable for the common one_for_one case;
 * the supervisor hands it a narrow `RestForOneHost` of closures instead of
 * widening its own private members.
 *
 * OTP meaning: children later in the start order depend on earlier ones, so
 * when child F is restarted, every child started after F is stopped too
 * (reverse order) and started again after F (spec order). Temporary later
 * children are removed instead. Only F's exit counts against the intensity;
 * the later children's stops are the supervisor's doing, not restarts.
 *
 * Overlapping failures: each sequence marks the slots it owns with a token in
 * `slot.pending`. A newer sequence that claims a slot takes it over (an
 * earlier child failing claims everything from itself on, so the older
 * sequence finds its failed slot taken and gives up). A sequence only ever
 * touches slots that still carry its own token.
 */
import { kernelLog } from "./log";
import type { ChildSlot } from "./supervisor";
import type { Child } from "./types";

/** OTP restart strategies this kernel supports. */
export type SupervisionStrategy = "one_for_one" | "rest_for_one";

export const STRATEGIES: readonly SupervisionStrategy[] = ["one_for_one", "rest_for_one"];

/** What a rest_for_one sequence needs from its supervisor. */
export interface RestForOneHost {
  readonly name: string;
  /** Starting or running (not stopping, stopped or failed). */
  live(): boolean;
  /** All slots, in start order. */
  order(): ChildSlot[];
  /** Still in the tree (not removed or replaced by a slot of the same name). */
  isCurrent(slot: ChildSlot): boolean;
  /** Whether launch() has taken this instance (it may be starting, running or gone). */
  started(child: Child): boolean;
  /** Builds the slot's next instance and makes it current; may throw. */
  instantiate(slot: ChildSlot): Child;
  /** Starts the slot's current instance (building it if needed); failures become exits. */
  launch(slot: ChildSlot): Promise<void>;
  /** Removes the slot from the tree and stops its child. */
  retire(slot: ChildSlot, reason: string): Promise<void>;
  /** Stops an instance that is no longer current; the supervisor's own stop waits for it. */
  stopReplaced(slot: ChildSlot, child: Child, reason: string): Promise<void>;
}

/**
 * Called by the supervisor after it has decided to restart `failed` (intensity
 * already checked, replacement already built). Stops the later children, waits
 * `delay`, then starts `failed` and the later children in order.
 */
export async function restartRestForOne(host: RestForOneHost, failed: ChildSlot, delay: number): Promise<void> {
  const sequence = {};
  const order = host.order();
  const group = order.slice(order.indexOf(failed));
  for (const slot of group) {
    // A later child waiting for its own restart simply starts again in this sequence.
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.pending = sequence;
  }
  const owns = (slot: ChildSlot) => host.live() && host.isCurrent(slot) && slot.pending === sequence;
  const reason = `rest_for_one: ${failed.spec.name} restarting`;
  const later = group.slice(1);
  if (later.length > 0) kernelLog(`[kernel] ${host.name}: stopping ${later.map((s) => s.spec.name).join(", ")} (${reason})`);
  for (const slot of later.reverse()) {
    if (!owns(failed)) return; // taken over by a newer sequence, or the supervisor is stopping
    if (owns(slot)) await stopLater(host, slot, reason);
  }
  if (!owns(failed)) return;
  // Backoff after the later children are down; `timer` also lets terminate() cancel it.
  failed.timer = setTimeout(() => {
    failed.timer = undefined;
    void startGroup(host, group, sequence);
  }, delay);
  failed.timer.unref?.();
}

async function stopLater(host: RestForOneHost, slot: ChildSlot, reason: string): Promise<void> {
  // An older sequence may still be stopping this slot's previous instance: wait, so
  // nothing is started before everything after it is really down.
  if (slot.stopping) await slot.stopping;
  const old = slot.instance;
  // Never started (still waiting in the initial start) or a fresh replacement from an
  // earlier restart: nothing to stop, and keeping it keeps the messages queued in it.
  if (!old || !host.started(old)) return;
  if (slot.spec.kind === "temporary") {
    slot.pending = undefined;
    await host.retire(slot, reason);
    return;
  }
  // Swap first: from here the old instance's exit is not this slot's, so it is not a
  // restart, and messages sent through `ref(name)` queue in the replacement.
  slot.instance = undefined;
  try {
    host.instantiate(slot);
  } catch {
    // launch() builds it again when its turn comes, and counts that failure
  }
  const done = host.stopReplaced(slot, old, reason);
  slot.stopping = done;
  await done;
  if (slot.stopping === done) slot.stopping = undefined;
}

async function startGroup(host: RestForOneHost, group: ChildSlot[], sequence: object): Promise<void> {
  for (const slot of group) {
    if (!host.live()) return;
    // Removed meanwhile, or claimed by a newer sequence (a child of this one failed
    // again while starting): that sequence starts it and everything after it.
    if (!host.isCurrent(slot) || slot.pending !== sequence) continue;
    if (slot.stopping) await slot.stopping;
    if (!host.live() || slot.pending !== sequence) continue;
    slot.pending = undefined;
    await host.launch(slot);
  }
}
