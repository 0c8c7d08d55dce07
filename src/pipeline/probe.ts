/**
 * probe(): what an uploaded file really is, from its bytes alone. The container is recognised by
 * file-type (magic numbers) and SVG by its root element; dimensions come from sharp's header read,
 * which decodes no pixels. Name and declared content type are never trusted.
 */
import exifReader from 'exif-reader';
import { fileTypeFromBuffer } from 'file-type';
import sharp, { type Metadata } from 'sharp';
import type { ImageFacts, ImageFormat } from '../core/types.js';

export interface ProbeResult {
  format: ImageFormat;
  contentType: string;
  /** Null when the header does not say (HEIC without a decoder, SVG without a size). */
  width: number | null;
  height: number | null;
  /** Frames in an animation (1 for stills). */
  pages: number;
  /** What delivery plans from (oriented size, frames, alpha, copyright); null when the header is unreadable. */
  facts: ImageFacts | null;
}

const MIME: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  avif: 'image/avif',
  heic: 'image/heic',
};

const BY_FILE_TYPE: Record<string, ImageFormat> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/apng': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/heic': 'heic',
  'image/heic-sequence': 'heic',
  'image/heif': 'heic',
  'image/heif-sequence': 'heic',
};

/**
 * Whether the bytes are an SVG document: after an optional BOM, XML declaration, comments and
 * doctype, the root element is `<svg`. Only the first 4 KiB are inspected.
 */
export function looksLikeSvg(buf: Buffer): boolean {
  let s = buf
    .subarray(0, 4096)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  for (;;) {
    const before = s;
    s = s.replace(/^\s+/, '');
    s = s.replace(/^<\?xml[^>]*\?>/i, '');
    s = s.replace(/^<!--[\s\S]*?-->/, '');
    s = s.replace(/^<!DOCTYPE\s[^>[]*(\[[\s\S]*?\])?\s*>/i, '');
    if (s === before) break;
  }
  return /^<svg[\s>/]/i.test(s) || /^<[A-Za-z_][\w.-]*:svg[\s>/]/.test(s);
}

/**
 * Identifies the format and reads the dimensions without decoding pixels.
 * Resolves to null when the bytes are not an image format Pictor accepts.
 * @example const info = await probe(bytes); // { format: 'png', width: 640, height: 480, ... }
 */
export async function probe(buf: Buffer): Promise<ProbeResult | null> {
  if (buf.length === 0) return null;
  const ft = await fileTypeFromBuffer(buf);
  let format: ImageFormat | undefined = ft ? BY_FILE_TYPE[ft.mime] : undefined;
  // file-type calls an SVG with an XML declaration `application/xml`; the root element decides.
  if (!format && (!ft || ft.mime === 'application/xml') && looksLikeSvg(buf)) format = 'svg';
  if (!format) return null;
  try {
    const meta = await sharp(buf, { limitInputPixels: false, pages: -1 }).metadata();
    const pages = meta.pages ?? 1;
    const height = meta.pageHeight ?? meta.height ?? null;
    return {
      format,
      contentType: MIME[format],
      width: meta.width ?? null,
      height,
      pages,
      facts: factsOf(meta),
    };
  } catch {
    // HEIC needs an HEVC decoder that sharp's prebuilt libvips lacks: the container is valid, the size
    // unknown. Every other format must have a readable header.
    if (format === 'heic')
      return { format, contentType: MIME[format], width: null, height: null, pages: 1, facts: null };
    return null;
  }
}

/**
 * An image's facts from sharp's header read: the size after EXIF orientation (one frame's for an
 * animation), frames, alpha and the EXIF copyright.
 */
export function factsOf(m: Metadata): ImageFacts {
  const oriented = m.autoOrient ?? { width: m.width ?? 0, height: m.height ?? 0 };
  const frames = m.pages ?? 1;
  const pageHeight = m.pageHeight ?? oriented.height;
  const swapped = (m.orientation ?? 1) >= 5;
  let copyright: string | null = null;
  if (m.exif) {
    try {
      const c = exifReader(m.exif).Image?.Copyright;
      if (typeof c === 'string' && c.trim()) copyright = c;
    } catch {
      // Unreadable EXIF: nothing to keep.
    }
  }
  return {
    width: oriented.width,
    height: frames > 1 && !swapped ? pageHeight : oriented.height,
    frames,
    alpha: m.hasAlpha ?? false,
    copyright,
  };
}

/**
 * Reads a stored original's header (no pixel decoding): its format as sharp sees it and its facts.
 * @example const { format, facts } = await readFacts(bytes);
 */
export async function readFacts(input: Buffer): Promise<{ format: ImageFormat; facts: ImageFacts }> {
  const m = await sharp(input, { limitInputPixels: false, pages: -1 }).metadata();
  const format = (
    m.format === 'heif' ? (m.compression === 'av1' ? 'avif' : 'heic') : m.format === 'jpg' ? 'jpeg' : m.format
  ) as ImageFormat;
  return { format, facts: factsOf(m) };
}

export { MIME as contentTypes };
