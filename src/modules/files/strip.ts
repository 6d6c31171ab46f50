/**
 * Metadata removal by rewriting containers, for the formats where decoding
 * and re-encoding would lose something: GIF (jimp decodes the first frame
 * only, so animations would freeze) and WebP (@jimp/wasm-webp cannot find its
 * WASM inside the compiled binary; a lossy re-encode would also lose quality
 * and animations). Both keep an allow-list of the blocks needed to draw the
 * image and drop everything else (comments, XMP, EXIF, ICC profiles, unknown
 * blocks). Malformed input throws.
 */

class Reader {
  at = 0;
  constructor(readonly b: Uint8Array) {}
  need(n: number) {
    if (this.at + n > this.b.length) throw new Error("truncated file");
  }
  take(n: number): Uint8Array {
    this.need(n);
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  byte(): number {
    return this.take(1)[0]!;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Data sub-blocks up to and including the zero terminator. */
function subBlocks(r: Reader): Uint8Array {
  const start = r.at;
  for (let len = r.byte(); len !== 0; len = r.byte()) r.take(len);
  return r.b.subarray(start, r.at);
}

const LOOP_EXTENSIONS = new Set(["NETSCAPE2.0", "ANIMEXTS1.0"]);

/** Keeps frames, graphic control (timing, transparency) and the loop count; the largest frame is reported. */
export function stripGif(bytes: Uint8Array): { bytes: Uint8Array; frames: number; maxFramePixels: number } {
  const r = new Reader(bytes);
  const head = r.take(13); // signature + logical screen descriptor
  const parts: Uint8Array[] = [head];
  if (head[10]! & 0x80) parts.push(r.take(3 * (1 << ((head[10]! & 7) + 1))));
  let frames = 0;
  let maxFramePixels = 0;
  for (;;) {
    const start = r.at;
    const block = r.byte();
    if (block === 0x3b) {
      parts.push(Uint8Array.of(0x3b)); // trailer; anything after it is dropped
      return { bytes: concat(parts), frames, maxFramePixels };
    }
    if (block === 0x2c) {
      const desc = r.take(9);
      const w = desc[4]! | (desc[5]! << 8);
      const h = desc[6]! | (desc[7]! << 8);
      maxFramePixels = Math.max(maxFramePixels, w * h);
      if (desc[8]! & 0x80) r.take(3 * (1 << ((desc[8]! & 7) + 1)));
      r.byte(); // LZW minimum code size
      subBlocks(r);
      parts.push(bytes.subarray(start, r.at));
      frames++;
      continue;
    }
    if (block !== 0x21) throw new Error(`malformed GIF: unexpected block 0x${block.toString(16)} at ${start}`);
    const label = r.byte();
    let keep = label === 0xf9; // graphic control extension
    if (label === 0xff) {
      const idLen = r.b[r.at] ?? 0;
      const id = new TextDecoder().decode(r.b.subarray(r.at + 1, r.at + 1 + Math.min(idLen, 11)));
      keep = LOOP_EXTENSIONS.has(id);
    }
    subBlocks(r);
    if (keep) parts.push(bytes.subarray(start, r.at));
  }
}

// Everything needed to draw a still or animated WebP; ICCP, EXIF, XMP and unknown chunks go.
const WEBP_KEEP = new Set(["VP8 ", "VP8L", "VP8X", "ALPH", "ANIM", "ANMF"]);
// VP8X flag bits of the chunks dropped above: ICC (0x20), EXIF (0x08), XMP (0x04).
const VP8X_DROPPED_FLAGS = 0x20 | 0x08 | 0x04;

export function stripWebp(bytes: Uint8Array): { bytes: Uint8Array; animated: boolean } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12) throw new Error("truncated file");
  const riffEnd = Math.min(bytes.length, 8 + v.getUint32(4, true));
  const parts: Uint8Array[] = [];
  let animated = false;
  for (let at = 12; at < riffEnd;) {
    if (at + 8 > riffEnd) throw new Error("truncated WebP chunk header");
    const fourcc = String.fromCharCode(...bytes.subarray(at, at + 4));
    const size = v.getUint32(at + 4, true);
    const end = at + 8 + size + (size & 1);
    if (at + 8 + size > riffEnd) throw new Error(`truncated WebP chunk ${fourcc}`);
    if (WEBP_KEEP.has(fourcc)) {
      const chunk = bytes.slice(at, Math.min(end, riffEnd));
      if (fourcc === "VP8X" && size >= 1) {
        chunk[8]! &= ~VP8X_DROPPED_FLAGS;
        animated = (chunk[8]! & 0x02) !== 0;
      }
      parts.push(chunk.length % 2 ? concat([chunk, new Uint8Array(1)]) : chunk);
    }
    at = end;
  }
  if (!parts.some((p) => ["VP8 ", "VP8L", "ANMF"].includes(String.fromCharCode(...p.subarray(0, 4))))) {
    throw new Error("WebP without image data");
  }
  const body = concat(parts);
  const header = new Uint8Array(12);
  header.set(bytes.subarray(0, 4));
  new DataView(header.buffer).setUint32(4, 4 + body.length, true);
  header.set(bytes.subarray(8, 12), 8);
  return { bytes: concat([header, body]), animated };
}
