import { describe, expect, test } from "bun:test";
import { imageSize, sniff } from "../../../src/modules/files/sniff";
import { stripGif, stripWebp } from "../../../src/modules/files/strip";
import { displayName } from "../../../src/modules/files/service";
import { contentDisposition } from "../../../src/modules/files";
import * as fx from "../../integration/files/fixtures";

describe("type sniffing decides from the bytes", () => {
  test("the allow-list is recognised, everything else refused", async () => {
    expect(sniff(await fx.pngWithText(4, 4))).toBe("png");
    expect(sniff(await fx.jpegWithExif(4, 4))).toBe("jpeg");
    expect(sniff(await fx.animatedGifWithComment(4, 4))).toBe("gif");
    expect(sniff(await fx.webpWithMetadata(4, 4))).toBe("webp");
    expect(sniff(fx.minimalPdf())).toBe("pdf");
    expect(sniff(fx.utf8Text())).toBe("text");
    expect(sniff(fx.elfBytes())).toBeNull();
    expect(sniff(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0]))).toBeNull(); // zip
    expect(sniff(new TextEncoder().encode("MZ\x00\x90 not text"))).toBeNull(); // NUL: binary
    expect(sniff(Uint8Array.of(0x68, 0x69, 0xff, 0xfe))).toBeNull(); // invalid UTF-8
    expect(sniff(new Uint8Array(0))).toBeNull();
  });

  test("dimensions come from the headers", async () => {
    expect(imageSize("png", await fx.pngWithText(40, 30))).toEqual({ width: 40, height: 30 });
    expect(imageSize("jpeg", await fx.jpegWithExif(40, 30))).toEqual({ width: 40, height: 30 });
    expect(imageSize("gif", await fx.animatedGifWithComment(40, 30))).toEqual({ width: 40, height: 30 });
    expect(imageSize("webp", await fx.webpWithMetadata(40, 30))).toEqual({ width: 40, height: 30 });
    expect(imageSize("jpeg", Uint8Array.of(0xff, 0xd8, 0xff, 0xda, 0, 2))).toBeNull();
  });
});

describe("container rewriting drops metadata and keeps the picture", () => {
  test("GIF: frames, timing and loop stay; comments and XMP go", async () => {
    const gif = await fx.animatedGifWithComment(20, 10);
    const out = stripGif(gif);
    expect(out.frames).toBe(2);
    expect(fx.contains(out.bytes, fx.SECRET)).toBe(false);
    expect(fx.contains(out.bytes, "NETSCAPE2.0")).toBe(true);
    expect(out.bytes.at(-1)).toBe(0x3b);
    expect(() => stripGif(gif.subarray(0, gif.length - 20))).toThrow();
  });

  test("WebP: ICCP, EXIF and XMP chunks and their VP8X flags go; the RIFF size is rewritten", async () => {
    const webp = await fx.webpWithMetadata(20, 10);
    const out = stripWebp(webp).bytes;
    expect(fx.contains(out, fx.SECRET)).toBe(false);
    for (const c of ["ICCP", "EXIF", "XMP "]) expect(fx.contains(out, c)).toBe(false);
    expect(out[20]! & (0x20 | 0x08 | 0x04)).toBe(0);
    expect(new DataView(out.buffer).getUint32(4, true)).toBe(out.length - 8);
    expect(imageSize("webp", out)).toEqual({ width: 20, height: 10 });
    expect(() => stripWebp(webp.subarray(0, 40))).toThrow();
  });
});

describe("names and headers", () => {
  test("display names lose paths, controls and bidi overrides", () => {
    expect(displayName("C:\\Users\\me\\a\r\nb\u202Egpj.exe")).toBe("abgpj.exe");
    expect(displayName("../../etc/passwd")).toBe("passwd");
    expect(displayName("")).toBe("file");
    expect(Array.from(displayName("😀".repeat(300))).length).toBe(255);
  });

  test("Content-Disposition: ASCII fallback without quotes, RFC 5987 filename* for the real name", () => {
    expect(contentDisposition("attachment", 'a"b\\c ü€.txt')).toBe(`attachment; filename="a_b_c __.txt"; filename*=UTF-8''a%22b%5Cc%20%C3%BC%E2%82%AC.txt`);
    expect(contentDisposition("inline", "it's (1)*.png")).toBe(`inline; filename="it's (1)*.png"; filename*=UTF-8''it%27s%20%281%29%2A.png`);
  });
});
