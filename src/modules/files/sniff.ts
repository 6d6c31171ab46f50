/**
 * What a file is, decided from its bytes only: the client's name and
 * Content-Type are never trusted. Anything outside the allow-list is refused.
 * Image dimensions are read from the headers, so an image declaring a huge
 * canvas (a decompression bomb) is refused before anything decodes it.
 */

export type FileKind = "png" | "jpeg" | "gif" | "webp" | "pdf" | "text";

export const CONTENT_TYPES: Record<FileKind, string> = {
  png: "image/png", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", pdf: "application/pdf", text: "text/plain",
};

export const kindOf = (contentType: string): FileKind | undefined =>
  (Object.keys(CONTENT_TYPES) as FileKind[]).find((k) => CONTENT_TYPES[k] === contentType);

export const isImage = (kind: FileKind) => kind !== "pdf" && kind !== "text";

const startsWith = (b: Uint8Array, sig: number[] | string, at = 0) => {
  const bytes = typeof sig === "string" ? [...sig].map((c) => c.charCodeAt(0)) : sig;
  return b.length >= at + bytes.length && bytes.every((v, i) => b[at + i] === v);
};

export function sniff(b: Uint8Array): FileKind | null {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (startsWith(b, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(b, "GIF87a") || startsWith(b, "GIF89a")) return "gif";
  if (startsWith(b, "RIFF") && startsWith(b, "WEBP", 8)) return "webp";
  if (startsWith(b, "%PDF-")) return "pdf";
  return isPlainText(b) ? "text" : null;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Valid UTF-8 without NUL or other control characters than tab, line breaks and form feed. */
function isPlainText(b: Uint8Array): boolean {
  if (b.length === 0) return false;
  for (const c of b) if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) return false;
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

export type Size = { width: number; height: number };

/** Width and height from the image's header, or null when the header is not readable. */
export function imageSize(kind: FileKind, b: Uint8Array): Size | null {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const has = (n: number) => b.length >= n;
  switch (kind) {
    case "png":
      return has(24) && startsWith(b, "IHDR", 12) ? { width: v.getUint32(16), height: v.getUint32(20) } : null;
    case "gif":
      return has(10) ? { width: v.getUint16(6, true), height: v.getUint16(8, true) } : null;
    case "jpeg":
      return jpegSize(b, v);
    case "webp":
      return webpSize(b, v);
    default:
      return null;
  }
}

// Start-of-frame markers: C0-CF except DHT (C4), JPG (C8) and DAC (CC).
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

function jpegSize(b: Uint8Array, v: DataView): Size | null {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // no length field
      continue;
    }
    if (isSof(marker)) return i + 9 <= b.length ? { height: v.getUint16(i + 5), width: v.getUint16(i + 7) } : null;
    if (marker === 0xda || marker === 0xd9) return null; // scan data before any frame header
    i += 2 + v.getUint16(i + 2);
  }
  return null;
}

function webpSize(b: Uint8Array, v: DataView): Size | null {
  if (b.length < 30) return null;
  const chunk = String.fromCharCode(...b.subarray(12, 16));
  if (chunk === "VP8X") {
    const u24 = (at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
    return { width: u24(24) + 1, height: u24(27) + 1 };
  }
  if (chunk === "VP8 " && startsWith(b, [0x9d, 0x01, 0x2a], 23)) {
    return { width: v.getUint16(26, true) & 0x3fff, height: v.getUint16(28, true) & 0x3fff };
  }
  if (chunk === "VP8L" && b[20] === 0x2f) {
    const bits = v.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  return null;
}
