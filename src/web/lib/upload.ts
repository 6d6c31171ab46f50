/**
 * Attaching files in the composer. XMLHttpRequest rather than fetch because
 * only XHR reports upload progress. An upload shows a pending item: a
 * progress bar while the bytes go up, "Processing…" after the 202, and it
 * disappears when the `file` message arrives (or turns into an error on a
 * refusal or a failed `file.status` event on the socket).
 *
 * In a direct conversation not written to yet, the upload names the person
 * (`to`) and the server opens the conversation; the view then moves to the
 * conversation, and its new view adopts this tray so the upload stays shown.
 */
import { ApiError, freshSession } from "./api";
import { refreshSession } from "./session";
import { h, icon } from "./dom";
import type { ServerFrame } from "./socket";
import type { ChatClient } from "../chat/client";

export type Accepted = { file_id: string; status: "pending"; conversation_id: string };
/** Where a file goes: a conversation, or a person to open a direct conversation with. */
export type UploadTarget = { conversation_id: string } | { to: string };

const CLIP = ["M21 11.5l-8.4 8.4a5 5 0 0 1-7-7L14 4.5a3.4 3.4 0 0 1 4.8 4.8l-8.4 8.4a1.8 1.8 0 0 1-2.5-2.5L15.5 7.6"];
const ACCEPT = "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,.txt,.md,.csv,.log";
const LABELS: Record<number, string> = { 413: "File too large", 415: "Unsupported file type" };

function post(token: string, target: UploadTarget, file: File, onProgress: (fraction: number) => void): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/files/upload");
    xhr.setRequestHeader("authorization", `Bearer ${token}`);
    xhr.setRequestHeader("accept", "application/json");
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {}
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "Upload failed: the connection was lost"));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "Upload cancelled"));
    const form = new FormData();
    for (const [k, v] of Object.entries(target)) form.set(k, v);
    form.set("file", file);
    xhr.send(form);
  });
}

/** Uploads one file; rejects with the server's message (prefixed with what it means for 413 and 415). */
export async function uploadFile(target: UploadTarget, file: File, onProgress: (fraction: number) => void): Promise<Accepted> {
  const s = await freshSession();
  let res = await post(s.access_token, target, file, onProgress);
  if (res.status === 401) {
    const next = await refreshSession(s.access_token);
    if (next) res = await post(next.access_token, target, file, onProgress);
  }
  if (res.status === 202 && typeof res.body?.file_id === "string") return res.body as Accepted;
  const e = res.body?.error as { code?: string; message?: string } | undefined;
  const label = LABELS[res.status];
  const message = e?.message ?? `Upload failed (${res.status})`;
  const text = !label ? message : message.toLowerCase().startsWith(label.toLowerCase()) ? label + message.slice(label.length) : `${label}: ${message}`;
  throw new ApiError(res.status, e?.code ?? `http_${res.status}`, text);
}

/** The file a `file` message is about: its client_id is `file:<id>`, and its content names it too. */
function fileIdOf(m: { client_id?: unknown; content?: unknown }): string | null {
  if (typeof m.client_id === "string" && m.client_id.startsWith("file:")) return m.client_id.slice(5);
  try {
    const id = JSON.parse(String(m.content)).file_id;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

type Entry = { el: HTMLElement; bar: HTMLProgressElement; state: HTMLElement };

/** Trays closed with uploads still showing, for the conversation's next view: by conversation id, or `to:<user>` while unknown. */
const handedOver = new Map<string, UploadTray>();

/** The attach button, its hidden file input, and the pending uploads above the composer. */
export class UploadTray {
  readonly el = h("div", { class: "uploads", "aria-live": "polite" });
  readonly input = h("input", { type: "file", hidden: true, multiple: true, accept: ACCEPT, tabindex: "-1", "aria-hidden": "true" });
  readonly button = h("button", { type: "button", class: "attach", "aria-label": "Attach a file", title: "Attach a file" }, icon(CLIP));
  private readonly waiting = new Map<string, Entry>();
  /** Files whose message (or final status) came before their 202 answer did. */
  private readonly finished = new Map<string, string | null>();
  private readonly off: () => void;
  /** Null until the server names the conversation a `to` upload opened. */
  private conversationId: string | null;

  /** The tray a closed view of this conversation left with uploads in it, or a new one. */
  static adopt(client: ChatClient, conversationId: string): UploadTray {
    const peer = client.store.convs.get(conversationId)?.peer?.id;
    for (const key of [conversationId, `to:${peer}`]) {
      const t = handedOver.get(key);
      if (!t || (key !== conversationId && t.conversationId && t.conversationId !== conversationId)) continue;
      handedOver.delete(key);
      t.conversationId = conversationId;
      t.target = { conversation_id: conversationId };
      return t;
    }
    return new UploadTray(client, { conversation_id: conversationId });
  }

  constructor(client: ChatClient, private target: UploadTarget) {
    this.conversationId = "conversation_id" in target ? target.conversation_id : null;
    this.button.addEventListener("click", () => this.input.click());
    this.input.addEventListener("change", () => {
      for (const f of this.input.files ?? []) void this.start(f);
      this.input.value = "";
    });
    this.off = client.onFrame$((f) => this.onFrame(f));
  }

  /** The view closes: uploads still showing go to the conversation's next view (see adopt). */
  release() {
    // A draft is left as soon as the conversation appears, which can be before the upload's answer names it.
    const key = this.conversationId ?? ("to" in this.target ? `to:${this.target.to}` : null);
    const previous = key ? handedOver.get(key) : undefined;
    if (previous && previous !== this) previous.off();
    if (key && this.el.childElementCount > 0) handedOver.set(key, this);
    else this.off();
  }

  private async start(file: File) {
    const state = h("span", { class: "upload-state" }, "0%");
    const bar = h("progress", { max: 100, value: 0, "aria-label": `Uploading ${file.name}` });
    const entry: Entry = { el: h("div", { class: "upload" }, h("span", { class: "upload-name" }, file.name), bar, state), bar, state };
    this.el.appendChild(entry.el);
    try {
      const { file_id, conversation_id } = await uploadFile(this.target, file, (fr) => {
        const pct = Math.min(100, Math.round(fr * 100));
        bar.value = pct;
        state.textContent = `${pct}%`;
      });
      if (!this.conversationId) {
        // Later files go to the conversation this one opened.
        this.conversationId = conversation_id;
        this.target = { conversation_id };
      }
      if (this.finished.has(file_id)) return this.settle(entry, this.finished.get(file_id)!);
      bar.removeAttribute("value"); // indeterminate while the server processes it
      bar.setAttribute("aria-label", `Processing ${file.name}`);
      state.textContent = "Processing…";
      this.waiting.set(file_id, entry);
    } catch (err) {
      this.settle(entry, (err as Error).message || "Upload failed");
    }
  }

  /** Removes the item (done) or turns it into an error with a dismiss button. */
  private settle(entry: Entry, error: string | null) {
    if (!error) return entry.el.remove();
    entry.el.classList.add("failed");
    entry.el.setAttribute("role", "alert");
    entry.bar.remove();
    entry.state.textContent = error;
    entry.el.appendChild(h("button", { type: "button", class: "link", onclick: () => entry.el.remove() }, "Dismiss"));
  }

  private finish(fileId: string, error: string | null) {
    const entry = this.waiting.get(fileId);
    if (!entry) return void this.finished.set(fileId, error);
    this.waiting.delete(fileId);
    this.settle(entry, error);
  }

  /** Before a `to` upload is answered its conversation is unknown: any conversation's files are candidates. */
  private ours(conversationId: unknown) {
    return this.conversationId === null || conversationId === this.conversationId;
  }

  private onFrame(f: ServerFrame) {
    if (f.type === "message" && f.message?.message_type === "file" && this.ours(f.message.conversation_id)) {
      const id = fileIdOf(f.message);
      if (id) this.finish(id, null);
    } else if (f.type === "file.status" && this.ours(f.conversation_id) && typeof f.file_id === "string") {
      if (f.status === "failed") this.finish(f.file_id, `Processing failed: ${f.error ?? "unknown error"}`);
      else if (f.status === "completed") this.finish(f.file_id, null);
    }
  }
}
