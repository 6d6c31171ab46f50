/**
 * Small real files for the upload tests, each carrying metadata that
 * processing must remove (a marker string that must not survive).
 */
import { Jimp } from "jimp";
import { createJimp } from "@jimp/core";
import { defaultFormats, defaultPlugins } from "jimp";
import webp from "@jimp/wasm-webp";

export const SECRET = "SECRET-GPS-47.3769N";
const enc = new TextEncoder();
const ascii = (s: string): Uint8Array<ArrayBuffer> => enc.encode(s) as Uint8Array<ArrayBuffer>;

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const contains = (hay: Uint8Array, needle: string) => Buffer.from(hay).includes(Buffer.from(needle, "latin1"));

/** A picture with some structure (not one flat colour), so codecs have real work. */
function picture(width: number, height: number) {
  const img = new Jimp({ width, height, color: 0x2266aaff });
  const d = img.bitmap.data;
  for (let i = 0; i < d.length; i += 4) d[i] = (i / 4) % width;
  return img;
}

const u8 = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const head = new Uint8Array(8);
  new DataView(head.buffer).setUint32(0, data.length);
  head.set(ascii(type), 4);
  const crc = new Uint8Array(4);
  new DataView(crc.buffer).setUint32(0, Bun.hash.crc32(concat(ascii(type), data)));
  return concat(head, data, crc);
}

/** PNG with a tEXt and an eXIf chunk before IEND. */
export async function pngWithText(width = 400, height = 300): Promise<Uint8Array<ArrayBuffer>> {
  const png = u8(await picture(width, height).getBuffer("image/png"));
  const iend = png.length - 12;
  return concat(png.subarray(0, iend), pngChunk("tEXt", ascii(`Comment\0${SECRET}`)), pngChunk("eXIf", concat(ascii("MM\0*"), ascii(SECRET))), png.subarray(iend));
}

/** A minimal big-endian TIFF block: one IFD entry (Orientation = 1) and the marker as trailing data. */
function exifPayload(): Uint8Array {
  const tiff = new Uint8Array(8 + 2 + 12 + 4);
  const v = new DataView(tiff.buffer);
  tiff.set(ascii("MM\0*"));
  v.setUint32(4, 8);
  v.setUint16(8, 1);
  v.setUint16(10, 0x0112);
  v.setUint16(12, 3);
  v.setUint32(14, 1);
  v.setUint16(18, 1);
  return concat(ascii("Exif\0\0"), tiff, ascii(SECRET));
}

/** JPEG with an APP1 Exif segment right after SOI. */
export async function jpegWithExif(width = 400, height = 300): Promise<Uint8Array<ArrayBuffer>> {
  const jpeg = u8(await picture(width, height).getBuffer("image/jpeg", { quality: 80 }));
  const payload = exifPayload();
  const seg = new Uint8Array(4);
  seg.set([0xff, 0xe1]);
  new DataView(seg.buffer).setUint16(2, payload.length + 2);
  return concat(jpeg.subarray(0, 2), seg, payload, jpeg.subarray(2));
}

const gifSubBlocks = (data: Uint8Array) => {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += 255) {
    const piece = data.subarray(i, i + 255);
    parts.push(Uint8Array.of(piece.length), piece);
  }
  return concat(...parts, Uint8Array.of(0));
};

/** Two-frame looping GIF with a comment and an XMP application extension. */
export async function animatedGifWithComment(width = 400, height = 300): Promise<Uint8Array<ArrayBuffer>> {
  const gif = u8(await picture(width, height).getBuffer("image/gif"));
  const packed = gif[10]!;
  const headerEnd = 13 + (packed & 0x80 ? 3 * (1 << ((packed & 7) + 1)) : 0);
  const frames = gif.subarray(headerEnd, gif.length - 1); // everything up to the trailer
  const loop = concat(Uint8Array.of(0x21, 0xff, 11), ascii("NETSCAPE2.0"), Uint8Array.of(3, 1, 0, 0, 0));
  const comment = concat(Uint8Array.of(0x21, 0xfe), gifSubBlocks(ascii(`made at ${SECRET}`)));
  const xmp = concat(Uint8Array.of(0x21, 0xff, 11), ascii("XMP DataXMP"), gifSubBlocks(ascii(`<x:xmpmeta>${SECRET}</x:xmpmeta>`)));
  return concat(gif.subarray(0, headerEnd), loop, comment, frames, xmp, frames, Uint8Array.of(0x3b));
}

function riffChunk(fourcc: string, data: Uint8Array): Uint8Array {
  const head = new Uint8Array(8);
  head.set(ascii(fourcc));
  new DataView(head.buffer).setUint32(4, data.length, true);
  return concat(head, data, data.length % 2 ? new Uint8Array(1) : new Uint8Array(0));
}

/** Extended WebP (VP8X) with ICCP, EXIF and XMP chunks around a lossy image. */
export async function webpWithMetadata(width = 400, height = 300): Promise<Uint8Array<ArrayBuffer>> {
  const J = createJimp({ formats: [...defaultFormats, webp], plugins: defaultPlugins });
  const simple = u8(Buffer.from(await new J({ width, height, color: 0x2266aaff }).getBuffer("image/webp", { quality: 80 })));
  const image = simple.subarray(12); // the VP8 chunk of a simple-format file
  const vp8x = new Uint8Array(10);
  vp8x[0] = 0x20 | 0x08 | 0x04;
  const dims = new DataView(vp8x.buffer);
  dims.setUint16(4, (width - 1) & 0xffff, true);
  dims.setUint16(7, (height - 1) & 0xffff, true);
  const body = concat(ascii("WEBP"), riffChunk("VP8X", vp8x), riffChunk("ICCP", ascii(`icc ${SECRET}`)), image,
    riffChunk("EXIF", exifPayload().subarray(6)), riffChunk("XMP ", ascii(`<x:xmpmeta>${SECRET}</x:xmpmeta>`)));
  const head = new Uint8Array(8);
  head.set(ascii("RIFF"));
  new DataView(head.buffer).setUint32(4, body.length, true);
  return concat(head, body);
}

export const minimalPdf = (): Uint8Array<ArrayBuffer> => ascii("%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n");

export const utf8Text = (): Uint8Array<ArrayBuffer> => ascii("Grüße aus Zürich – 東京\nline two\n");

/** The start of an x86-64 ELF executable. */
export const elfBytes = () => concat(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0), new Uint8Array(56), ascii("\0\0/lib64/ld-linux-x86-64.so.2\0"));

/** Image dimensions of PNG/JPEG/GIF output, read back by jimp. */
export async function dimensions(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  const img = await Jimp.fromBuffer(Buffer.from(bytes));
  return { width: img.width, height: img.height };
}
