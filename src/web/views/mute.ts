/**
 * Muting a conversation (POST /chat/conversations/{id}/mute): no
 * notifications from it until unmuted. The server does not list the state, so
 * the last choice made on this device is remembered to label the button.
 */
import { post } from "../lib/api";
import { h } from "../lib/dom";
import { toast } from "./common";

const key = (me: string, id: string) => `huddle.muted.${me}.${id}`;

export function muteButton(me: string, id: string): HTMLButtonElement {
  const b = h("button", { type: "button", class: "mute-btn" });
  let muted = localStorage.getItem(key(me, id)) === "1";
  const render = () => {
    b.textContent = muted ? "Unmute" : "Mute";
    b.setAttribute("aria-pressed", String(muted));
    b.title = muted ? "Notifications from this conversation are off" : "Turn off notifications from this conversation";
  };
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      // A time in the past unmutes.
      const r = await post<{ muted: boolean }>(`/chat/conversations/${id}/mute`, muted ? { until: new Date(0).toISOString() } : {});
      muted = r.muted;
      if (muted) localStorage.setItem(key(me, id), "1");
      else localStorage.removeItem(key(me, id));
      toast(muted ? "Muted: no notifications from this conversation" : "Unmuted");
      render();
    } catch (err) {
      toast((err as Error).message);
    } finally {
      b.disabled = false;
    }
  });
  render();
  return b;
}
