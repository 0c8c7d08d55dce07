/**
 * sanitizeSvg(): what Cloudflare does with svg-hush, in Node. An SVG is served as uploaded but made
 * inert: no scripting, no hyperlinks to other documents, no references to resources outside the
 * document itself. The bytes are decoded, parsed with @xmldom/xmldom (a real XML parser: it never
 * reads a DTD, never fetches anything and never expands a declared entity) and the DOM is rebuilt
 * from ALLOWLISTS: an element or attribute not named below is removed, whatever its spelling.
 *
 * Refused (null): not well-formed XML, a root other than `svg` (SVG namespace or none), a DOCTYPE
 * that declares entities (XXE, billion laughs), over 10 MiB, over 100,000 elements, nesting deeper
 * than 256, over 256 attributes on an element, characters XML forbids, an encoding that cannot be decoded.
 *
 * Removed: comments, processing instructions (the XML declaration too: the output is UTF-8, which
 * needs none), the DOCTYPE, `script`/`foreignObject`/… and every element outside the allowlist with
 * its subtree, `on*` and every attribute outside the allowlist, `href`/`xlink:href` other than a
 * same-document `#fragment` (an `image` may also hold a `data:` PNG, JPEG, GIF or WebP and is dropped
 * without one). `<a>` is unwrapped: its children stay, the link goes. CSS (`<style>`, `style`, and
 * presentation attributes that call a function) is parsed by css-tree and written out again from the
 * checked tree: properties and at-rules outside allowlists go (@import, @font-face, @namespace), and
 * `url(…)` other than `url(#id)` and calls to unknown functions become `none`.
 *
 * SVG_SANITIZER_VERSION names these rules: an image stored under an older one is cleaned again.
 */
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import type { Attr, Document, Element, Node } from '@xmldom/xmldom';
import * as csstree from 'css-tree';
import type { CssNode } from 'css-tree';
import { MAX_SVG_BYTES } from '../core/limits.js';

/** Raised whenever the rules change so that they tighten: version 2 is the css-tree sanitiser. */
export const SVG_SANITIZER_VERSION = 2;
export const SVG_MAX_BYTES = MAX_SVG_BYTES;
export const SVG_MAX_ELEMENTS = 100_000;
export const SVG_MAX_DEPTH = 256;
/** Per element. xmldom removes an attribute in time linear in their number, so this bounds the walk. */
export const SVG_MAX_ATTRIBUTES = 256;

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

// ---------------------------------------------------------------------------------------------
// Allowlists
// ---------------------------------------------------------------------------------------------

const FILTER_PRIMITIVES = [
  'feBlend',
  'feColorMatrix',
  'feComponentTransfer',
  'feComposite',
  'feConvolveMatrix',
  'feDiffuseLighting',
  'feDisplacementMap',
  'feDistantLight',
  'feDropShadow',
  'feFlood',
  'feFuncA',
  'feFuncB',
  'feFuncG',
  'feFuncR',
  'feGaussianBlur',
  'feImage',
  'feMerge',
  'feMergeNode',
  'feMorphology',
  'feOffset',
  'fePointLight',
  'feSpecularLighting',
  'feSpotLight',
  'feTile',
  'feTurbulence',
];

/**
 * Animation: `animate`, `set` and `animateTransform` are kept only when `attributeName` names an
 * allowlisted, non-URL attribute (never href/xlink:href, style or on*), and their from/to/by/values
 * go through the same url() check as presentation attributes; so an animation can neither make a
 * link nor load anything. `animateMotion` animates position only; `mpath` obeys the href rule.
 */
const ANIMATION_WITH_TARGET_ATTRIBUTE = new Set(['animate', 'set', 'animateTransform']);

/** SVG-namespace elements kept (with their allowed attributes and cleaned children). */
const ALLOWED_ELEMENTS = new Set([
  'svg',
  'g',
  'defs',
  'symbol',
  'use',
  'path',
  'rect',
  'circle',
  'ellipse',
  'line',
  'polyline',
  'polygon',
  'text',
  'tspan',
  'textPath',
  'title',
  'desc',
  'linearGradient',
  'radialGradient',
  'stop',
  'pattern',
  'clipPath',
  'mask',
  'filter',
  ...FILTER_PRIMITIVES,
  'marker',
  'image',
  'style',
  'switch',
  'metadata',
  'view',
  'animate',
  'set',
  'animateTransform',
  'animateMotion',
  'mpath',
]);

/** SVG-namespace elements replaced by their (cleaned) children: the link goes, its content stays. */
const UNWRAPPED_ELEMENTS = new Set(['a']);

/** Presentation attributes (SVG 1.1 + 2): CSS-valued, so their values get the CSS check. */
const PRESENTATION_ATTRIBUTES = new Set([
  'alignment-baseline',
  'baseline-shift',
  'clip',
  'clip-path',
  'clip-rule',
  'color',
  'color-interpolation',
  'color-interpolation-filters',
  'color-profile',
  'color-rendering',
  'cursor',
  'direction',
  'display',
  'dominant-baseline',
  'enable-background',
  'fill',
  'fill-opacity',
  'fill-rule',
  'filter',
  'flood-color',
  'flood-opacity',
  'font',
  'font-family',
  'font-size',
  'font-size-adjust',
  'font-stretch',
  'font-style',
  'font-variant',
  'font-weight',
  'glyph-orientation-horizontal',
  'glyph-orientation-vertical',
  'image-rendering',
  'isolation',
  'kerning',
  'letter-spacing',
  'lighting-color',
  'marker',
  'marker-end',
  'marker-mid',
  'marker-start',
  'mask',
  'mask-type',
  'mix-blend-mode',
  'opacity',
  'overflow',
  'paint-order',
  'pointer-events',
  'shape-rendering',
  'solid-color',
  'solid-opacity',
  'stop-color',
  'stop-opacity',
  'stroke',
  'stroke-dasharray',
  'stroke-dashoffset',
  'stroke-linecap',
  'stroke-linejoin',
  'stroke-miterlimit',
  'stroke-opacity',
  'stroke-width',
  'text-anchor',
  'text-decoration',
  'text-overflow',
  'text-rendering',
  'transform-origin',
  'unicode-bidi',
  'vector-effect',
  'visibility',
  'white-space',
  'word-spacing',
  'writing-mode',
]);

/** Animation value attributes: may carry paint values such as url(…), so CSS-checked too. */
const ANIMATION_VALUE_ATTRIBUTES = new Set(['from', 'to', 'by', 'values']);

/** Other no-namespace attributes kept verbatim (after the scheme check). */
const PLAIN_ATTRIBUTES = new Set([
  // core, root, conditional processing
  'id',
  'class',
  'lang',
  'tabindex',
  'role',
  'version',
  'baseProfile',
  'viewBox',
  'preserveAspectRatio',
  'zoomAndPan',
  'requiredFeatures',
  'requiredExtensions',
  'systemLanguage',
  // geometry
  'x',
  'y',
  'x1',
  'y1',
  'x2',
  'y2',
  'cx',
  'cy',
  'r',
  'rx',
  'ry',
  'fx',
  'fy',
  'fr',
  'd',
  'points',
  'pathLength',
  'width',
  'height',
  'transform',
  // text
  'dx',
  'dy',
  'rotate',
  'textLength',
  'lengthAdjust',
  'startOffset',
  'method',
  'spacing',
  'side',
  'path',
  // gradients, patterns, clipping, masking, markers
  'gradientUnits',
  'gradientTransform',
  'spreadMethod',
  'offset',
  'patternUnits',
  'patternContentUnits',
  'patternTransform',
  'clipPathUnits',
  'maskUnits',
  'maskContentUnits',
  'markerWidth',
  'markerHeight',
  'markerUnits',
  'refX',
  'refY',
  'orient',
  // filters
  'filterUnits',
  'primitiveUnits',
  'filterRes',
  'in',
  'in2',
  'result',
  'stdDeviation',
  'edgeMode',
  'operator',
  'k1',
  'k2',
  'k3',
  'k4',
  'mode',
  'type',
  'tableValues',
  'slope',
  'intercept',
  'amplitude',
  'exponent',
  'scale',
  'xChannelSelector',
  'yChannelSelector',
  'baseFrequency',
  'numOctaves',
  'seed',
  'stitchTiles',
  'order',
  'kernelMatrix',
  'divisor',
  'bias',
  'targetX',
  'targetY',
  'kernelUnitLength',
  'preserveAlpha',
  'surfaceScale',
  'diffuseConstant',
  'specularConstant',
  'specularExponent',
  'limitingConeAngle',
  'azimuth',
  'elevation',
  'pointsAtX',
  'pointsAtY',
  'pointsAtZ',
  'radius',
  // animation timing (values are checked separately)
  'attributeName',
  'attributeType',
  'begin',
  'dur',
  'end',
  'min',
  'max',
  'restart',
  'repeatCount',
  'repeatDur',
  'calcMode',
  'keyTimes',
  'keySplines',
  'keyPoints',
  'additive',
  'accumulate',
  'origin',
  // style element
  'media',
  'title',
  // view
  'viewTarget',
]);

/** Attribute names an animation may target: allowlisted, and nothing that is a URL or a style sheet. */
function isAnimatableAttribute(name: string): boolean {
  return PRESENTATION_ATTRIBUTES.has(name) || (PLAIN_ATTRIBUTES.has(name) && !NOT_ANIMATABLE.has(name));
}
const NOT_ANIMATABLE = new Set(['attributeName', 'attributeType', 'begin', 'end', 'type', 'media', 'title']);

const DATA_RASTER_IMAGE = /^data:image\/(?:png|jpeg|jpg|gif|webp)[;,]/i;
/** A same-document fragment: `#` and an id with no whitespace, quotes, brackets or escapes. */
const FRAGMENT = /^#[^\s"'`<>()\\#]+$/u;
const XML_WHITESPACE_TRIM = /^[ \t\r\n]+|[ \t\r\n]+$/g;
/** Characters XML 1.0 forbids (a numeric reference such as `&#0;` can smuggle one in). */
const NON_XML_CHAR =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the forbidden control characters are the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;
/** Schemes that run code, looked for after whitespace and control characters are taken out. */
const DANGEROUS_SCHEME = /javascript:|vbscript:|livescript:|data:text\/html|data:application\/xhtml/;

// ---------------------------------------------------------------------------------------------
// CSS (style attributes, <style>, CSS-valued presentation attributes)
// ---------------------------------------------------------------------------------------------

/**
 * CSS properties kept in style sheets and style attributes: the presentation attributes, and what
 * SVG renders besides (geometry, transforms, animation). No custom properties, so no var().
 */
const CSS_PROPERTIES = new Set([
  ...PRESENTATION_ATTRIBUTES,
  'x',
  'y',
  'cx',
  'cy',
  'r',
  'rx',
  'ry',
  'd',
  'width',
  'height',
  'transform',
  'transform-box',
  'background-color',
  'line-height',
  'text-transform',
  'text-shadow',
  'font-kerning',
  'font-feature-settings',
  'font-variation-settings',
  'font-variant-ligatures',
  'font-variant-caps',
  'font-variant-numeric',
  'font-variant-east-asian',
  'text-decoration-line',
  'text-decoration-color',
  'text-decoration-style',
  'mask-type',
  'will-change',
  'z-index',
  ...[
    '',
    '-name',
    '-duration',
    '-timing-function',
    '-delay',
    '-iteration-count',
    '-direction',
    '-fill-mode',
    '-play-state',
  ].map((s) => `animation${s}`),
  ...['', '-property', '-duration', '-timing-function', '-delay'].map((s) => `transition${s}`),
]);

/** Value functions that load nothing (any other call, url-like or unknown, becomes `none`). */
const CSS_FUNCTIONS = new Set([
  'rgb',
  'rgba',
  'hsl',
  'hsla',
  'hwb',
  'lab',
  'lch',
  'oklab',
  'oklch',
  'color',
  'color-mix',
  'calc',
  'min',
  'max',
  'clamp',
  'round',
  'mod',
  'rem',
  'abs',
  'sign',
  'sin',
  'cos',
  'tan',
  'asin',
  'acos',
  'atan',
  'atan2',
  'pow',
  'sqrt',
  'hypot',
  'log',
  'exp',
  'translate',
  'translatex',
  'translatey',
  'translatez',
  'translate3d',
  'rotate',
  'rotatex',
  'rotatey',
  'rotatez',
  'rotate3d',
  'scale',
  'scalex',
  'scaley',
  'scalez',
  'scale3d',
  'skew',
  'skewx',
  'skewy',
  'matrix',
  'matrix3d',
  'perspective',
  'cubic-bezier',
  'steps',
  'linear',
  'blur',
  'brightness',
  'contrast',
  'drop-shadow',
  'grayscale',
  'hue-rotate',
  'invert',
  'opacity',
  'saturate',
  'sepia',
  'path',
  'circle',
  'ellipse',
  'inset',
  'polygon',
  'rect',
  'xywh',
]);

/** At-rules kept (their preludes and blocks checked like the rest); @import, @font-face, @namespace… go. */
const CSS_AT_RULES = new Set(['media', 'supports', 'keyframes', '-webkit-keyframes', 'layer', 'container']);

type CssContext = 'stylesheet' | 'declarationList' | 'value';
const NONE = (): CssNode => ({ type: 'Identifier', name: 'none' });

/**
 * Checks a value, selector or prelude subtree in place: url(#id) stays, any other url() and any call
 * outside CSS_FUNCTIONS becomes `none`; false when it holds something css-tree could not parse (Raw:
 * a bad string, a bad url, …) or a node of no use here (comments, CDO/CDC, unicode ranges).
 */
function cleanCssTree(root: CssNode): boolean {
  let ok = true;
  csstree.walk(root, (node, item, list) => {
    if (!ok) return csstree.walk.skip;
    if (
      node.type === 'Raw' ||
      node.type === 'Comment' ||
      node.type === 'CDO' ||
      node.type === 'CDC' ||
      node.type === 'UnicodeRange'
    ) {
      ok = false;
    } else if (node.type === 'Url' || node.type === 'Function') {
      const name = node.type === 'Function' ? csstree.ident.decode(node.name).toLowerCase() : 'url';
      if (node.type === 'Url' ? FRAGMENT.test(node.value) : CSS_FUNCTIONS.has(name)) {
        if (node.type === 'Function') node.name = name; // written back unescaped
        return undefined;
      }
      if (list && item) list.replace(item, list.createItem(NONE()));
      else ok = false;
      return csstree.walk.skip;
    }
    return undefined;
  });
  return ok;
}

/** Keeps the declarations, rules and at-rules of a block (or style sheet) that pass; removes the rest. */
function cleanCssList(children: csstree.List<CssNode>): void {
  children.forEach((node, item) => {
    if (!cleanCssNode(node)) children.remove(item);
  });
}

function cleanCssNode(node: CssNode): boolean {
  switch (node.type) {
    case 'Declaration': {
      const property = csstree.ident.decode(node.property).toLowerCase();
      if (!CSS_PROPERTIES.has(property) || !cleanCssTree(node.value)) return false;
      node.property = property;
      return true;
    }
    case 'Rule':
      if (!cleanCssTree(node.prelude)) return false;
      cleanCssList(node.block.children);
      return true;
    case 'Atrule': {
      const name = csstree.ident.decode(node.name).toLowerCase();
      if (!CSS_AT_RULES.has(name) || (node.prelude && !cleanCssTree(node.prelude))) return false;
      node.name = name;
      if (node.block) cleanCssList(node.block.children);
      return true;
    }
    default:
      return false; // comments, CDO/CDC, Raw (what css-tree could not parse)
  }
}

function cleanCssOnce(css: string, context: CssContext): string | null {
  let ast: CssNode;
  try {
    ast = csstree.parse(css, { context, parseCustomProperty: false, onParseError: () => undefined });
  } catch {
    return null;
  }
  if (ast.type === 'StyleSheet' || ast.type === 'DeclarationList') cleanCssList(ast.children);
  else if (!cleanCssTree(ast)) return null;
  return csstree.generate(ast);
}

/**
 * CSS made inert by a real parser (css-tree, which follows the CSS Syntax spec's tokenizer and error
 * recovery, so a bad string, a bad url, an escape or a comment ends where a browser's does): parsed,
 * checked against the allowlists above and written out again from the checked tree, never by
 * patching the text. `context` is a `<style>` sheet, a style attribute or a property value. The
 * output is checked to be a fixed point (cleaning it again changes nothing), so what a browser reads
 * is exactly what was checked; null when it is not, or when a value cannot be kept at all.
 * @example sanitizeCss('fill:url(https://x);stroke:url(#g)', 'declarationList') // 'fill:none;stroke:url(#g)'
 */
export function sanitizeCss(css: string, context: CssContext): string | null {
  const out = cleanCssOnce(css, context);
  return out !== null && cleanCssOnce(out, context) === out ? out : null;
}

// ---------------------------------------------------------------------------------------------
// Input: bytes → string, and a cheap pre-scan that bounds the work before the DOM is built
// ---------------------------------------------------------------------------------------------

class Refused extends Error {}

/** Decodes by BOM, else by the XML declaration's encoding, else UTF-8; invalid bytes → null. */
function decode(input: Buffer): string | null {
  let encoding = 'utf-8';
  if (input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) encoding = 'utf-8';
  else if (input[0] === 0xff && input[1] === 0xfe) encoding = 'utf-16le';
  else if (input[0] === 0xfe && input[1] === 0xff) encoding = 'utf-16be';
  else {
    const head = input.subarray(0, 512).toString('latin1');
    const m = /^<\?xml[ \t\r\n][^>]*?\bencoding[ \t\r\n]*=[ \t\r\n]*["']([A-Za-z][\w.:-]*)["']/.exec(head);
    if (m) {
      encoding = m[1]!.toLowerCase();
      // A declaration readable as ASCII without a BOM is not UTF-16, whatever it says.
      if (encoding.startsWith('utf-16') || encoding.startsWith('utf-32') || encoding === 'ucs-2') return null;
    }
  }
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(input);
  } catch {
    return null;
  }
}

/**
 * Counts start tags and nesting depth on the raw text so that an oversized document is refused
 * before xmldom builds it (xmldom is linear but not fast, and namespace scopes cost per level).
 * Markup is the only place `<` may appear in well-formed XML, so this over-counts at worst; the
 * authoritative count is redone on the DOM. Also refuses any DOCTYPE that declares entities.
 */
function prescan(s: string): void {
  let elements = 0;
  let depth = 0;
  let i = 0;
  const n = s.length;
  for (;;) {
    const lt = s.indexOf('<', i);
    if (lt < 0) return;
    const next = s[lt + 1];
    if (next === '!') {
      if (s.startsWith('<!--', lt)) i = skipTo(s, '-->', lt + 4);
      else if (s.startsWith('<![CDATA[', lt)) i = skipTo(s, ']]>', lt + 9);
      else {
        // <!DOCTYPE …>: up to the `>` outside quotes and outside the [internal subset].
        let j = lt + 2;
        let quote = '';
        let bracket = 0;
        for (; j < n; j++) {
          const c = s[j]!;
          if (quote) {
            if (c === quote) quote = '';
          } else if (c === '"' || c === "'") quote = c;
          else if (c === '[') bracket++;
          else if (c === ']') bracket--;
          else if (c === '>' && bracket <= 0) break;
        }
        if (j >= n) throw new Refused('unterminated declaration');
        if (/<!ENTITY/i.test(s.slice(lt, j))) throw new Refused('DOCTYPE declares entities');
        i = j + 1;
      }
    } else if (next === '?') {
      i = skipTo(s, '?>', lt + 2);
    } else if (next === '/') {
      depth--;
      i = lt + 2;
    } else {
      // Start tag: up to the `>` outside quoted attribute values.
      let j = lt + 1;
      let quote = '';
      for (; j < n; j++) {
        const c = s[j]!;
        if (quote) {
          if (c === quote) quote = '';
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '>') break;
      }
      if (j >= n) throw new Refused('unterminated tag');
      if (++elements > SVG_MAX_ELEMENTS) throw new Refused('too many elements');
      if (s[j - 1] !== '/' && ++depth > SVG_MAX_DEPTH) throw new Refused('nested too deep');
      i = j + 1;
    }
  }
}

function skipTo(s: string, end: string, from: number): number {
  const at = s.indexOf(end, from);
  if (at < 0) throw new Refused(`unterminated ${end}`);
  return at + end.length;
}

function parse(text: string): Document {
  const parser = new DOMParser({
    locator: false,
    onError: (level, message) => {
      // xmldom reports recoverable ill-formedness (a missing quote, an unknown entity) as warning or
      // error and carries on; we stop at all of them. A U+FFFD in the text is no such problem.
      if (level === 'warning' && message.startsWith('Unicode replacement character')) return;
      throw new Refused(`${level}: ${message}`);
    },
  });
  return parser.parseFromString(text, 'application/xml');
}

/** The authoritative limits, on the DOM (iteratively: depth is not yet known to be bounded). */
function checkLimits(root: Element): void {
  let elements = 0;
  const stack: Array<[Node, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (++elements > SVG_MAX_ELEMENTS) throw new Refused('too many elements');
    if (depth > SVG_MAX_DEPTH) throw new Refused('nested too deep');
    if ((node as Element).attributes.length > SVG_MAX_ATTRIBUTES) throw new Refused('too many attributes');
    for (let c = node.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === ELEMENT_NODE) stack.push([c, depth + 1]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The DOM walk
// ---------------------------------------------------------------------------------------------

interface Context {
  doc: Document;
  /** Element namespaces accepted: SVG, plus none when the root has none. */
  namespaces: ReadonlySet<string | null>;
}

function checkChars(value: string): void {
  if (NON_XML_CHAR.test(value)) throw new Refused('character not allowed in XML');
}

function hasDangerousScheme(value: string): boolean {
  return DANGEROUS_SCHEME.test(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: browsers skip these inside a scheme
    value.replace(/[\u0000-\u0020\u007F-\u00A0\u00AD\u200B-\u200F\u2028\u2029\uFEFF]+/g, '').toLowerCase(),
  );
}

/** The value to keep for a link attribute on `el`, or null to remove it. */
function cleanHref(el: Element, value: string): string | null {
  const v = value.replace(XML_WHITESPACE_TRIM, '');
  if (FRAGMENT.test(v)) return v;
  if (el.localName === 'image' && DATA_RASTER_IMAGE.test(v)) return v;
  return null;
}

/** The value to keep for `attr` on `el`, or null to remove it. */
function cleanAttribute(el: Element, attr: Attr): string | null {
  const ns = attr.namespaceURI;
  const name = attr.localName ?? attr.name;
  const value = attr.value;
  checkChars(value);
  if (ns === XMLNS_NS) {
    // Namespace declarations: only SVG's and XLink's (every other namespace's nodes are removed).
    if (attr.name === 'xmlns') return value === SVG_NS || value === '' ? value : null;
    return value === SVG_NS || value === XLINK_NS ? value : null;
  }
  if (ns === XML_NS) return name === 'space' || name === 'lang' ? value : null;
  if (ns === XLINK_NS) {
    if (name === 'href') return cleanHref(el, value);
    return name === 'title' && !hasDangerousScheme(value) ? value : null;
  }
  if (ns !== null && ns !== '') return null;

  let cleaned: string | null;
  if (name === 'href') return cleanHref(el, value);
  if (name === 'style') cleaned = sanitizeCss(value, 'declarationList');
  else if (PRESENTATION_ATTRIBUTES.has(name) || ANIMATION_VALUE_ATTRIBUTES.has(name)) {
    // Without `(` or `\\` a value can call no function (url() first): kept as written.
    cleaned = /[(\\]/.test(value) ? cleanValueList(value) : value;
  } else if (PLAIN_ATTRIBUTES.has(name) || /^aria-[a-z]+$/.test(name)) cleaned = value;
  else return null; // on*, and everything else not named
  if (cleaned === null || hasDangerousScheme(cleaned)) return null;
  return cleaned;
}

/** A CSS value, or an animation's `;`-separated list of them, cleaned; null if any part cannot be. */
function cleanValueList(value: string): string | null {
  const parts = value.split(';').map((v) => (v.trim() === '' ? '' : sanitizeCss(v, 'value')));
  return parts.includes(null) ? null : parts.join(';');
}

function cleanAttributes(el: Element): void {
  for (const attr of Array.from(el.attributes)) {
    const cleaned = cleanAttribute(el, attr);
    if (cleaned === null) el.removeAttributeNode(attr);
    else if (cleaned !== attr.value) el.setAttributeNS(attr.namespaceURI, attr.name, cleaned);
  }
}

type Action = 'keep' | 'drop' | 'unwrap';

function classify(el: Element, ctx: Context): Action {
  if (!ctx.namespaces.has(el.namespaceURI)) return 'drop';
  const name = el.localName ?? '';
  if (UNWRAPPED_ELEMENTS.has(name)) return 'unwrap';
  if (!ALLOWED_ELEMENTS.has(name)) return 'drop';
  if (ANIMATION_WITH_TARGET_ATTRIBUTE.has(name)) {
    const target = el.getAttribute('attributeName')?.trim() ?? '';
    if (!isAnimatableAttribute(target)) return 'drop';
  }
  if (name === 'style') {
    const type = el.getAttribute('type')?.trim().toLowerCase();
    if (type && type !== 'text/css') return 'drop';
  }
  return 'keep';
}

/** Cleans `el` in place (attributes and subtree). False: `el` must be removed after all. */
function cleanElement(el: Element, ctx: Context): boolean {
  cleanAttributes(el);
  const name = el.localName;
  if (name === 'metadata') {
    // RDF and friends: nothing in it renders.
    while (el.firstChild) el.removeChild(el.firstChild);
    return true;
  }
  if (name === 'style') {
    let css = '';
    for (let c = el.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === TEXT_NODE || c.nodeType === CDATA_SECTION_NODE) css += c.nodeValue ?? '';
    }
    checkChars(css);
    const cleaned = sanitizeCss(css, 'stylesheet');
    if (cleaned === null) return false;
    while (el.firstChild) el.removeChild(el.firstChild);
    if (cleaned.trim() !== '') el.appendChild(ctx.doc.createTextNode(cleaned));
    return true;
  }
  if (name === 'image' && !el.hasAttribute('href') && !el.hasAttributeNS(XLINK_NS, 'href')) return false;
  cleanChildren(el, ctx);
  return true;
}

function cleanChildren(parent: Element, ctx: Context): void {
  for (const child of Array.from(parent.childNodes)) {
    switch (child.nodeType) {
      case TEXT_NODE:
        checkChars(child.nodeValue ?? '');
        break;
      case CDATA_SECTION_NODE: {
        const data = child.nodeValue ?? '';
        checkChars(data);
        parent.replaceChild(ctx.doc.createTextNode(data), child);
        break;
      }
      case ELEMENT_NODE: {
        const el = child as Element;
        const action = classify(el, ctx);
        if (action === 'drop') parent.removeChild(el);
        else if (action === 'unwrap') {
          cleanAttributes(el); // nothing of it survives, but it runs the character check
          cleanChildren(el, ctx);
          while (el.firstChild) parent.insertBefore(el.firstChild, el);
          parent.removeChild(el);
        } else if (!cleanElement(el, ctx)) parent.removeChild(el);
        break;
      }
      default:
        // comments, processing instructions, entity references
        parent.removeChild(child);
    }
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * The SVG in `input`, sanitised and serialised as UTF-8 (no XML declaration), or null when it is
 * not a well-formed SVG document within the limits that can be made safe.
 */
export function sanitizeSvg(input: Buffer): Buffer | null {
  if (input.length === 0 || input.length > SVG_MAX_BYTES) return null;
  try {
    const text = decode(input);
    if (text === null) return null;
    prescan(text);
    const doc = parse(text);
    if (doc.doctype && /<!ENTITY/i.test(doc.doctype.internalSubset ?? '')) return null;
    const root = doc.documentElement;
    if (root?.localName !== 'svg') return null;
    if (root.namespaceURI !== SVG_NS && root.namespaceURI !== null) return null;
    checkLimits(root);
    const ctx: Context = {
      doc,
      namespaces: new Set<string | null>(root.namespaceURI === null ? [SVG_NS, null] : [SVG_NS]),
    };
    if (!cleanElement(root, ctx)) return null;
    const out = new XMLSerializer().serializeToString(root, { requireWellFormed: true });
    return Buffer.from(out, 'utf8');
  } catch {
    // Refused, xmldom's ParseError, or a DOMException from the well-formedness check on output.
    return null;
  }
}
