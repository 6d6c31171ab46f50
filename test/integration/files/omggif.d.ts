// omggif (a dependency of jimp) ships no types; the tests use it as an independent GIF reader.
declare module "omggif" {
  export class GifReader {
    constructor(buf: Uint8Array);
    width: number;
    height: number;
    numFrames(): number;
  }
}
