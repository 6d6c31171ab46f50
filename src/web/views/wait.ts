/**
 * Rate-limit refusals (429) in words, with a countdown that ticks. The
 * server's message ("too many requests; retry in 12 s") is written for logs
 * and is stale a second later; its `details.retry_after` (seconds) is what
 * the countdown starts from.
 */
import { h } from "../lib/dom";

/** "12 s", "1 min 5 s". */
export function duration(sec: number): string {
  if (sec < 60) return `${sec} s`;
  const m = Math.floor(sec / 60);
  return sec % 60 ? `${m} min ${sec % 60} s` : `${m} min`;
}

/**
 * Text that counts down to `until`: `waiting(left)` while there is time left, then `done`. Built from
 * the deadline, so a re-rendered copy shows the same time; the timer stops at zero or once detached.
 */
export function countdown(until: number, waiting: (left: string) => string, done: string): HTMLElement {
  // Not a live region itself: a screen reader hears the first text (from the container), not every tick.
  const el = h("span", { class: "countdown", "aria-live": "off" });
  let shown = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    el.textContent = left > 0 ? waiting(duration(left)) : done;
    el.classList.toggle("over", left <= 0);
    shown ||= el.isConnected;
    if (left <= 0 || (shown && !el.isConnected)) clearInterval(timer);
  };
  tick();
  timer = setInterval(tick, 250);
  return el;
}

/** What each rate-limited action says, as a sentence with a live countdown. */
export const LIMITED = {
  send: (until: number) => countdown(until, (t) => `Not sent: you are sending messages faster than allowed. You can retry in ${t}.`, "Not sent: you were sending messages too fast. You can retry now."),
  submit: (until: number) => countdown(until,
    (t) => `Too many submissions in a short time, so this one was not queued; the earlier ones are judged as usual. You can submit again in ${t}.`,
    "You can submit again now."),
  run: (until: number) => countdown(until, (t) => `Too many runs in a short time. You can run again in ${t}.`, "You can run again now."),
  signIn: (until: number) => countdown(until, (t) => `Too many attempts. Please wait ${t} before trying again.`, "You can try again now."),
};
