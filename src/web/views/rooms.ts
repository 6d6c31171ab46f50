/** Browse, join and create rooms. */
import { get, post, qs } from "../lib/api";
import { debounce, h } from "../lib/dom";
import type { Room } from "../lib/types";
import type { ChatClient } from "../chat/client";
import { avatar } from "./avatar";
import { busy, errorBox, paneHead, spinner, toast, type View } from "./common";

export function roomsView(client: ChatClient): View {
  const search = h("input", { id: "room-search", "data-search": true, type: "search", placeholder: "Search rooms", autocomplete: "off", maxlength: 80 });
  const results = h("ul", { class: "card-list", "aria-label": "Rooms", "aria-live": "polite" });
  const name = h("input", { id: "room-name", name: "name", required: true, maxlength: 80, placeholder: "e.g. sql-study-group" });
  const description = h("input", { id: "room-desc", name: "description", maxlength: 500, placeholder: "What is it about? (optional)" });
  const isPrivate = h("input", { id: "room-private", name: "is_private", type: "checkbox" });
  const create = h("button", { type: "submit", class: "primary" }, "Create room");
  const createError = h("div", { class: "alert", role: "alert", hidden: true });
  let seq = 0;

  async function load() {
    const mine = ++seq;
    results.replaceChildren(spinner());
    try {
      const term = search.value.trim();
      const { rooms } = await get<{ rooms: Room[] }>(`/rooms${qs({ search: term, limit: 100 })}`);
      if (mine !== seq) return;
      const none = term ? `No rooms match “${term}”.` : "No rooms yet. Create the first one below.";
      results.replaceChildren(...(rooms.length ? rooms.map(row) : [h("li", { class: "empty" }, none)]));
    } catch (err) {
      if (mine === seq) results.replaceChildren(errorBox((err as Error).message));
    }
  }

  function row(r: Room): HTMLElement {
    const join = h("button", { type: "button", class: r.is_member ? "" : "primary" }, r.is_member ? "Open" : "Join");
    join.addEventListener("click", () => {
      if (r.is_member) return void (location.hash = `#/c/${r.id}`);
      void busy(join, async () => {
        try {
          await post(`/rooms/${r.id}/join`);
          await client.store.loadConversations();
          location.hash = `#/c/${r.id}`;
        } catch (err) {
          toast((err as Error).message);
        }
      });
    });
    return h("li", { class: "card" },
      avatar(r.id, r.name, { room: true }),
      h("div", { class: "card-main" },
        h("div", { class: "card-title" }, r.name, r.is_private ? h("span", { class: "tag" }, "private") : null),
        // Names may repeat (README, Rooms): the owner and the member count tell two "general"s apart.
        h("div", { class: "card-sub" },
          h("span", { class: "room-owner" }, !r.owner ? "no owner" : r.owner.display_name ? `by ${r.owner.display_name} (@${r.owner.username})` : `by @${r.owner.username}`),
          ` · ${r.member_count} member${r.member_count === 1 ? "" : "s"}${r.description ? ` · ${r.description}` : ""}`),
      ),
      join,
    );
  }

  const form = h("form", { class: "create-room", onsubmit: (e: Event) => (e.preventDefault(), void submit()) },
    h("h3", null, "Create a room"),
    h("div", { class: "field" }, h("label", { for: "room-name" }, "Name"), name),
    h("div", { class: "field" }, h("label", { for: "room-desc" }, "Description"), description),
    h("div", { class: "check" }, isPrivate, h("label", { for: "room-private" }, "Private (only invited members can join)")),
    createError, create,
  );

  async function submit() {
    createError.hidden = true;
    try {
      const room = await busy(create, () => post<Room>("/rooms", { name: name.value.trim(), description: description.value.trim() || undefined, is_private: isPrivate.checked }));
      await client.store.loadConversations();
      location.hash = `#/c/${room.id}`;
    } catch (err) {
      createError.textContent = (err as Error).message;
      createError.hidden = false;
    }
  }

  search.addEventListener("input", debounce(() => void load(), 250));
  const el = h("section", { class: "pane page", "aria-label": "Rooms" },
    paneHead("Rooms", "Public rooms and the rooms you are in"),
    h("div", { class: "page-body" },
      h("div", { class: "field" }, h("label", { for: "room-search" }, "Search rooms"), search),
      results,
      form,
    ),
  );
  void load();
  return { el };
}
