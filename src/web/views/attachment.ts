/**
 * How a `file` message is shown: an image as its thumbnail (a click opens the
 * viewer), anything else as a download button with name and size. Files need the bearer header, so
 * they are fetched with the token and shown through blob: URLs (the CSP
 * allows `img-src blob:`); one cache per message list, revoked when the list
 * goes away. The name is user content: it only ever goes into text nodes and
 * attributes.
 */
import { ApiError, freshSession } from "../lib/api";
import { refreshSession } from "../lib/session";
import { h, icon } from "../lib/dom";
import { openImageViewer } from "./image-viewer";

export type FileInfo = {
  file_id: string;
  name: string;
  content_type: string;
  size: number;
  has_thumbnail: boolean;
  width: number | null;
  height: number | null;
};

const FILE_ICON = ["M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z", "M14 3v5h5", "M12 11v6", "M9 14l3 3 3-3"];
/** The thumbnail is at most 320 px on the long side; in a bubble it gets at most this. */
const THUMB_BOX = 240;

/** The message content as file details, or null when it is not what the server writes. */
export function parseFileContent(raw: string): FileInfo | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  if (typeof o.file_id !== "string" || !/^[0-9a-f-]{36}$/i.test(o.file_id) || typeof o.name !== "string" || typeof o.size !== "number") return null;
  const dim = (x: unknown) => (typeof x === "number" && x > 0 ? x : null);
  return {
    file_id: o.file_id, name: o.name, size: o.size,
    content_type: typeof o.content_type === "string" ? o.content_type : "application/octet-stream",
    has_thumbnail: o.has_thumbnail === true, width: dim(o.width), height: dim(o.height),
  };
}

export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let n = bytes / 1024;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

/** GET with the bearer token (one refresh and retry on 401), as a Blob. */
export async function fetchBlob(path: string): Promise<Blob> {
  const s = await freshSession();
  const send = (token: string) => fetch(path, { headers: { authorization: `Bearer ${token}` } });
  let res = await send(s.access_token);
  if (res.status === 401) {
    const next = await refreshSession(s.access_token);
    if (next) res = await send(next.access_token);
  }
  if (!res.ok) throw new ApiError(res.status, `http_${res.status}`, res.status === 404 ? "File not available" : `Download failed (${res.status})`);
  return res.blob();
}

export class Attachments {
  /** file_id (and kind) -> blob: URL, fetched once. */
  private readonly urls = new Map<string, Promise<string>>();
  private disposed = false;

  private url(fileId: string, which: "thumbnail" | "file"): Promise<string> {
    const key = `${which}:${fileId}`;
    let p = this.urls.get(key);
    if (!p) {
      p = fetchBlob(`/files/${encodeURIComponent(fileId)}${which === "thumbnail" ? "/thumbnail" : ""}`).then((b) => {
        const url = URL.createObjectURL(b);
        // The list went away while this was loading: nothing will show it.
        if (this.disposed) URL.revokeObjectURL(url);
        return url;
      });
      // A failure is not cached: the next click tries again.
      p.catch(() => this.urls.delete(key));
      this.urls.set(key, p);
    }
    return p;
  }

  /** The body of a `file` message bubble; malformed content is shown as the raw text. */
  render(raw: string): HTMLElement {
    const info = parseFileContent(raw);
    if (!info) return h("div", { class: "text" }, raw);
    const status = h("div", { class: "attachment-status", "aria-live": "polite" });
    const label = `Download ${info.name} (${humanSize(info.size)})`;
    let body: HTMLElement;
    if (info.has_thumbnail) {
      const scale = info.width && info.height ? Math.min(1, THUMB_BOX / Math.max(info.width, info.height)) : 0;
      const img = h("img", {
        class: "thumb", alt: info.name,
        width: scale ? Math.max(1, Math.round(info.width! * scale)) : null,
        height: scale ? Math.max(1, Math.round(info.height! * scale)) : null,
      });
      const view = `View ${info.name} (${humanSize(info.size)})`;
      body = h("button", { type: "button", class: "attachment image", title: view, "aria-label": view, onclick: () => openImageViewer(info.name, this.url(info.file_id, "file"), () => void this.download(info, status)) }, img);
      this.url(info.file_id, "thumbnail").then((u) => {
        if (!this.disposed) img.src = u;
      }).catch(() => (status.textContent = "Preview unavailable"));
    } else {
      body = h("button", { type: "button", class: "attachment file", title: label, "aria-label": label, onclick: () => this.download(info, status) },
        icon(FILE_ICON),
        h("span", { class: "file-name" }, info.name),
        h("span", { class: "file-size" }, humanSize(info.size)),
      );
    }
    return h("div", { class: "attachment-wrap", "data-file-id": info.file_id }, body, status);
  }

  /** Fetches the full file and saves it under its name (an <a download> on a blob: URL). */
  private async download(info: FileInfo, status: HTMLElement) {
    status.textContent = "Downloading…";
    try {
      const url = await this.url(info.file_id, "file");
      if (this.disposed) return;
      const a = h("a", { href: url, download: info.name, class: "sr-only" });
      document.body.appendChild(a);
      a.click();
      a.remove();
      status.textContent = "";
    } catch (err) {
      status.textContent = (err as Error).message || "Download failed";
    }
  }

  /** Frees every blob: URL (the conversation is being left). */
  dispose() {
    this.disposed = true;
    for (const p of this.urls.values()) p.then((u) => URL.revokeObjectURL(u), () => {});
    this.urls.clear();
  }
}
