/** Domain types shared by every layer. Plain data, no behaviour. */

export type Permission = 'read' | 'write';

export interface Account {
  /** 32-hex account id, as in `/accounts/{account_id}`. */
  id: string;
  /** 22-character base64url hash used in delivery URLs. */
  hash: string;
  /** How many images the account may hold (stats `allowed`). */
  allowance: number;
  flexibleVariants: boolean;
  /** Browser TTL in seconds for public deliveries. */
  browserTtl: number;
  createdAt: number;
}

export interface ApiCredential {
  /** SHA-256 hex of the token or global key. */
  secretHash: string;
  /** `token` for `Authorization: Bearer`, `global` for `X-Auth-Email` + `X-Auth-Key`, `batch` for batch tokens. */
  kind: 'token' | 'global' | 'batch';
  /** The e-mail a global key belongs to; null for tokens. */
  email: string | null;
  permissions: Permission[];
  /** The accounts the credential may touch. */
  accountIds: string[];
  label: string;
  createdAt: number;
  /** When the credential stops working (ms); null: never. */
  expiresAt: number | null;
}

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'svg' | 'avif' | 'heic';

export type Metadata = Record<string, unknown>;

/**
 * What delivery needs to plan a rendition, read once from the header at upload and stored with the
 * row, so a delivery never reads the header again. (The format is the row's `format`.)
 */
export interface ImageFacts {
  /** Width and height after EXIF orientation; for an animation, one frame's. */
  width: number;
  height: number;
  /** Frames (1 for stills). */
  frames: number;
  /** Whether the image has an alpha channel. */
  alpha: boolean;
  /** The EXIF copyright, which `metadata=copyright` keeps; null when there is none. */
  copyright: string | null;
}

export interface ImageRecord {
  accountId: string;
  id: string;
  filename: string | null;
  meta: Metadata | null;
  creator: string | null;
  requireSignedURLs: boolean;
  /** Upload time, ms since the epoch. */
  uploaded: number;
  /** Key of the original bytes in the blob store; null for drafts. */
  blobKey: string | null;
  contentType: string | null;
  format: ImageFormat | null;
  size: number;
  /** The stored size as the header gives it (before EXIF orientation); null when unknown. */
  width: number | null;
  height: number | null;
  /**
   * Oriented size, frames, alpha and copyright; null for drafts, for formats whose header cannot be
   * read (HEIC without a decoder), and for rows written before facts were stored (delivery fills
   * those in on their first rendition).
   */
  facts: ImageFacts | null;
  draft: boolean;
  /** Drafts only: when the one-time upload URL expires (ms). */
  expiresAt: number | null;
  /** Bumped on every change that must purge cached renditions. */
  version: number;
  /**
   * SVGs: the version of the sanitiser rules (`SVG_SANITIZER_VERSION`) that cleaned the stored bytes;
   * null or absent for SVGs stored before versions were kept (version 1) and for other formats.
   */
  svgSanitizer?: number | null;
}

export type Fit = 'scale-down' | 'contain' | 'cover' | 'crop' | 'pad';
export type MetadataMode = 'keep' | 'copyright' | 'none';

export interface VariantOptions {
  fit: Fit;
  metadata: MetadataMode;
  width?: number;
  height?: number;
  /** Per-variant browser TTL in seconds. */
  browser_ttl?: number;
}

export interface VariantRecord {
  accountId: string;
  id: string;
  options: VariantOptions;
  neverRequireSignedURLs: boolean;
  /** Bumped on every PATCH so cache keys change. */
  version: number;
  createdAt: number;
}

export interface SigningKey {
  accountId: string;
  name: string;
  value: string;
  createdAt: number;
}

export const FITS: readonly Fit[] = ['scale-down', 'contain', 'cover', 'crop', 'pad'];
export const METADATA_MODES: readonly MetadataMode[] = ['keep', 'copyright', 'none'];
