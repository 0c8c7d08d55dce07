/**
 * Response headers every SVG document Pictor serves carries (blob, delivery, the cached fast path,
 * transformation URLs): defence in depth behind the sanitiser (src/pipeline/svg-sanitize.ts). The
 * policy lets the document style itself inline and show `data:` rasters, and nothing else: no
 * script, no fetch of any kind, no frames, no fonts, no base or form targets.
 */
export const SVG_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/**
 * The headers to add to any response whose body is an SVG document.
 * @example reply.headers(SVG_RESPONSE_HEADERS)
 */
export const SVG_RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': SVG_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
});

/** Whether a Content-Type names an SVG document (parameters and case ignored). */
export function isSvgContentType(contentType: string | undefined | null): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'image/svg+xml';
}
