/**
 * The processing of one upload, as a pure function of its bytes (it runs in
 * a child process, see process-child.ts, because pure-JS codecs hold the thread
 * for seconds on a large photo). Images lose their metadata and get a
 * thumbnail of at most THUMB_MAX px on the long side; PDF and text are kept
 * as they are. Every error thrown here is about the content (undecodable,
 * too large) and is final for the file.
 */
import { Jimp } from "jimp";
import { imageSize, isImage, type FileKind } from "./sniff";
import { stripGif, stripWebp } from "./strip";
import { decodeWebpRgba } from "./webp";

/** 40 megapixels: 160 MB as RGBA while decoding, and a few seconds of work per pass. */
export const MAX_PIXELS = 40_000_000;
export const THUMB_MAX = 320;
/** Avatars are one square picture of this many pixels a side. */
export const AVATAR_PX = 128;

export type ProcessOutput = {
  /** Replacement bytes to store instead of the upload; absent: the upload is kept as it is. */
  bytes?: Uint8Array;
  width?: number;
  height?: number;
  thumbnail?: { bytes: Uint8Array; type: string };
};

type Image = Awaited<ReturnType<typeof Jimp.fromBuffer>>;

const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const u8 = (b: Buffer | Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function checkPixels(width: number, height: number) {
  if (width < 1 || height < 1) throw new Error("image has no pixels");
  if (width * height > MAX_PIXELS) throw new Error(`image too large: ${width}x${height} exceeds ${MAX_PIXELS / 1e6} megapixels`);
}

async function thumbnail(image: Image, type: "image/png" | "image/jpeg") {
  const thumb = image.clone();
  if (thumb.width > THUMB_MAX || thumb.height > THUMB_MAX) thumb.scaleToFit({ w: THUMB_MAX, h: THUMB_MAX });
  const bytes = type === "image/jpeg" ? await thumb.getBuffer(type, { quality: 80 }) : await thumb.getBuffer(type);
  return { bytes: u8(bytes), type };
}

export async function processFile(kind: FileKind, input: Uint8Array): Promise<ProcessOutput> {
  if (!isImage(kind)) return {};
  const size = imageSize(kind, input);
  if (!size) throw new Error(`unreadable ${kind.toUpperCase()} header`);
  checkPixels(size.width, size.height);
  switch (kind) {
    case "png": {
      // Decoding and encoding again keeps the pixels only: tEXt/iTXt/zTXt, eXIf, tIME and the like are gone.
      const image = await Jimp.fromBuffer(asBuffer(input));
      const bytes = u8(await image.getBuffer("image/png", { deflateLevel: 6 }));
      return { bytes, width: image.width, height: image.height, thumbnail: await thumbnail(image, "image/png") };
    }
    case "jpeg": {
      // jimp applies the EXIF orientation while decoding, so the re-encoded pixels stand upright without it.
      const image = await Jimp.fromBuffer(asBuffer(input));
      const bytes = u8(await image.getBuffer("image/jpeg", { quality: 90 }));
      return { bytes, width: image.width, height: image.height, thumbnail: await thumbnail(image, "image/jpeg") };
    }
    case "gif": {
      const stripped = stripGif(input);
      if (stripped.frames === 0) throw new Error("GIF without frames");
      checkPixels(1, stripped.maxFramePixels);
      const image = await Jimp.fromBuffer(asBuffer(stripped.bytes)); // first frame
      return { bytes: stripped.bytes, width: size.width, height: size.height, thumbnail: await thumbnail(image, "image/png") };
    }
    case "webp": {
      const stripped = stripWebp(input);
      // The WASM decoder draws still images only: an animation keeps its frames but gets no thumbnail.
      if (stripped.animated) return { bytes: stripped.bytes, width: size.width, height: size.height };
      const rgba = await decodeWebpRgba(stripped.bytes);
      // fromBitmap copies the array's whole underlying buffer: hand it one holding exactly the pixels.
      const image = Jimp.fromBitmap({ data: rgba.data.slice(), width: rgba.width, height: rgba.height });
      return { bytes: stripped.bytes, width: rgba.width, height: rgba.height, thumbnail: await thumbnail(image as Image, "image/png") };
    }
  }
}

/**
 * An avatar: the same header checks and metadata-free decoding as an uploaded image, then one
 * AVATAR_PX square (centred crop), PNG (JPEG for JPEG). Only the square is kept, so no byte of
 * the upload (or its metadata) is stored. An animated WebP has no still frame to draw: refused.
 */
export async function processAvatar(kind: FileKind, input: Uint8Array): Promise<{ bytes: Uint8Array; type: "image/png" | "image/jpeg" }> {
  if (!isImage(kind)) throw new Error("an avatar must be a PNG, JPEG, GIF or WebP image");
  const size = imageSize(kind, input);
  if (!size) throw new Error(`unreadable ${kind.toUpperCase()} header`);
  checkPixels(size.width, size.height);
  let image: Image;
  if (kind === "gif") {
    const stripped = stripGif(input);
    if (stripped.frames === 0) throw new Error("GIF without frames");
    checkPixels(1, stripped.maxFramePixels);
    image = await Jimp.fromBuffer(asBuffer(stripped.bytes));
  } else if (kind === "webp") {
    const stripped = stripWebp(input);
    if (stripped.animated) throw new Error("an animated WebP cannot be an avatar");
    const rgba = await decodeWebpRgba(stripped.bytes);
    image = Jimp.fromBitmap({ data: rgba.data.slice(), width: rgba.width, height: rgba.height }) as Image;
  } else {
    image = await Jimp.fromBuffer(asBuffer(input));
  }
  image.cover({ w: AVATAR_PX, h: AVATAR_PX });
  const type = kind === "jpeg" ? "image/jpeg" : "image/png";
  const bytes = type === "image/jpeg" ? await image.getBuffer(type, { quality: 85 }) : await image.getBuffer(type);
  return { bytes: u8(bytes), type };
}
