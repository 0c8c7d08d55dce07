/**
 * Cheap completeness checks on upload: does the file end where its own structure says it ends?
 * A truncated upload fails them without a pixel being decoded, which keeps uploads near the cost of
 * writing the bytes (a decode at upload cost about ten times the write here; bench/README.md).
 * Hand-written: decoders (sharp/libvips) only find truncation by decoding, and no library checks
 * container structure alone. Data corrupted in the middle of a complete file is caught at delivery
 * (9412), never served half-decoded.
 */
import type { ImageFormat } from '../core/types.js';

/** JPEG: an EOI marker after the first start-of-scan (scan data byte-stuffs 0xFF, so it is unambiguous). */
function jpegComplete(buf: Buffer): boolean {
  const sos = buf.indexOf(Buffer.from([0xff, 0xda]), 2);
  if (sos < 0) return false;
  // From the end: the EOI of a whole file is at (or near) its last bytes.
  return buf.lastIndexOf(Buffer.from([0xff, 0xd9])) > sos;
}

/** PNG: an IEND chunk with its fixed CRC. */
function pngComplete(buf: Buffer): boolean {
  return buf.lastIndexOf(Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82])) > 8;
}

/** WebP: the RIFF size covers the bytes that came. */
function webpComplete(buf: Buffer): boolean {
  return buf.length >= 12 && buf.readUInt32LE(4) + 8 <= buf.length;
}

/** GIF: walk the block structure (extensions, image descriptors, data sub-blocks) to the trailer. */
function gifComplete(buf: Buffer): boolean {
  if (buf.length < 13) return false;
  let p = 13;
  const flags = buf[10]!;
  if (flags & 0x80) p += 3 * (1 << ((flags & 0x07) + 1));
  /** Skips data sub-blocks starting at q; returns the index after the terminator, or -1. */
  const subBlocks = (q: number): number => {
    while (q < buf.length) {
      const n = buf[q]!;
      if (n === 0) return q + 1;
      q += n + 1;
    }
    return -1;
  };
  let images = 0;
  while (p < buf.length) {
    const b = buf[p]!;
    if (b === 0x3b) return images > 0;
    if (b === 0x21) {
      p = subBlocks(p + 2);
    } else if (b === 0x2c) {
      if (p + 10 > buf.length) return false;
      const f = buf[p + 9]!;
      p += 10;
      if (f & 0x80) p += 3 * (1 << ((f & 0x07) + 1));
      p = subBlocks(p + 1); // after the LZW minimum code size
      images++;
    } else return false;
    if (p < 0) return false;
  }
  return false;
}

/** ISO-BMFF (AVIF, HEIC): every top-level box lies inside the file and an `mdat` box is among them. */
function isobmffComplete(buf: Buffer): boolean {
  let offset = 0;
  let mdat = false;
  while (offset + 8 <= buf.length) {
    let size = buf.readUInt32BE(offset);
    const type = buf.toString('latin1', offset + 4, offset + 8);
    if (size === 1) {
      if (offset + 16 > buf.length) return false;
      size = Number(buf.readBigUInt64BE(offset + 8));
    } else if (size === 0) size = buf.length - offset;
    if (size < 8 || offset + size > buf.length) return false;
    if (type === 'mdat') mdat = true;
    offset += size;
  }
  return mdat;
}

const CHECKS: Partial<Record<ImageFormat, (buf: Buffer) => boolean>> = {
  jpeg: jpegComplete,
  png: pngComplete,
  webp: webpComplete,
  gif: gifComplete,
  avif: isobmffComplete,
  heic: isobmffComplete,
};

/**
 * Whether a file of a recognised format is structurally complete.
 * @example isComplete(jpegBytes.subarray(0, 1000), 'jpeg') // false
 */
export function isComplete(buf: Buffer, format: ImageFormat): boolean {
  const check = CHECKS[format];
  return check ? check(buf) : true;
}
