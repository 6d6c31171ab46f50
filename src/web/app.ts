/**
 * Entry point of the browser client: restores the session (or shows sign-in),
 * builds the shell (sidebar + main pane) and routes on the URL hash.
 */
import { get, onSignedOut, post } from "./lib/api";
import { h, mount } from "./lib/dom";
import { clearSession, loadSession, onSessionChange, updateUser, type Session } from "./lib/session";
import type { User } from "./lib/types";
import { ChatClient } from "./chat/client";
import { loginView } from "./views/login";
import { sidebar } from "./views/sidebar";
import type { View } from "./views/common";
import { homeView } from "./views/home";
import { conversationView } from "./views/conversation";
import { peopleView } from "./views/people";
import { roomsView } from "./views/rooms";
import { problemsView } from "./views/problems";
import { problemView } from "./views/problem";
import { submissionsView } from "./views/submissions";
import { profileView } from "./views/profile";
import { searchView } from "./views/search";
import { showMyAvatar } from "./views/profile-avatar";
import { installShortcuts } from "./lib/keys";
import { clearAllDrafts } from "./lib/drafts";

const root = document.getElementById("app")!;
let client: ChatClient | null = null;
let current: View | null = null;
let unbindKeys: (() => void) | null = null;

function route(c: ChatClient, hash: string): View {
  const [, section, arg] = hash.replace(/^#\/?/, "").match(/^([^/]*)\/?(.*)$/) ?? [];
  const id = arg ? decodeURIComponent(arg) : "";
  switch (section) {
    case "c": {
      // #/c/{id}/{seq}: opened at that message (a search result).
      const [conv, at] = id.split("/");
      return conversationView(c, { id: conv! }, Number(at) || undefined);
    }
    case "search": return searchView(c, id);
    case "dm": return conversationView(c, { peer: id });
    case "people": return peopleView(c);
    case "rooms": return roomsView(c);
    case "problems": return id ? problemView(c, id) : problemsView();
    case "submissions": return submissionsView();
    case "profile": return profileView(c);
    default: return homeView(c);
  }
}

function showLogin(notice?: string) {
  client?.stop();
  client = null;
  current?.destroy?.();
  current = null;
  root.className = "";
  mount(root, loginView((s) => start(s), notice));
}

function start(session: Session) {
  const c = new ChatClient(session.user);
  client = c;
  const side = sidebar(c, () => void logout());
  const main = h("main", { class: "main", id: "main" });
  root.className = "layout";
  mount(root, side.el, main);
  const render = () => {
    if (client !== c) return;
    current?.destroy?.();
    current = route(c, location.hash);
    // Narrow screens show either the list or the open pane.
    root.classList.toggle("show-main", !/^#?\/?$/.test(location.hash));
    main.replaceChildren(current.el);
    side.onRoute();
  };
  onhashchange = render;
  unbindKeys?.();
  unbindKeys = installShortcuts(() => side.visibleIds());
  render();
  c.start();
  // Keep the profile fresh (display name changes) and prove the session still works.
  void get<User>("/users/me").then((u) => {
    updateUser(u);
    if (u.avatar_url !== c.store.me.avatar_url) (c.store.me.avatar_url = u.avatar_url, showMyAvatar(c.store.me));
  }).catch(() => {});
}

async function logout() {
  const s = loadSession();
  try {
    if (s) await post("/auth/logout", { refresh_token: s.refresh_token });
  } catch {}
  clearSession();
  clearAllDrafts();
  showLogin();
}

onSignedOut(() => showLogin("Your session has ended. Please sign in again."));
// Another tab signed out, in, or in as someone else: follow it.
onSessionChange((s) => {
  if (!s) {
    if (client) showLogin();
  } else if (!client || client.store.me.id !== s.user.id) {
    client?.stop();
    current?.destroy?.();
    current = null;
    start(s);
  }
});

const existing = loadSession();
if (existing) start(existing);
else showLogin();
