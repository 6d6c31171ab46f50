/** The main pane when nothing is open (on narrow screens the list is shown instead). */
import { h, icon, ICONS } from "../lib/dom";
import type { ChatClient } from "../chat/client";
import type { View } from "./common";

export function homeView(client: ChatClient): View {
  const me = client.store.me;
  return {
    el: h("section", { class: "pane home", "aria-label": "Welcome" },
      h("div", { class: "home-inner" },
        h("h2", null, `Hi ${me.display_name || me.username}!`),
        h("p", { class: "muted" }, "Pick a conversation on the left, or start something new."),
        h("div", { class: "home-actions" },
          h("a", { class: "tile", href: "#/people" }, icon(ICONS.people), h("strong", null, "Message someone"), h("span", null, "Search people and start a direct conversation")),
          h("a", { class: "tile", href: "#/rooms" }, icon(ICONS.rooms), h("strong", null, "Browse rooms"), h("span", null, "Join a public room or create your own")),
          h("a", { class: "tile", href: "#/problems" }, icon(ICONS.code), h("strong", null, "Practise SQL"), h("span", null, "Solve problems and get a verdict in seconds")),
        ),
      ),
    ),
  };
}
