/**
 * The one error catalogue. Every error Pictor answers with is an entry here: its Cloudflare code, the
 * HTTP status, the public message and whether Cloudflare prefixes the message with `ERROR <code>: `
 * (Images codes do; generic API codes such as 9106 or 10000 do not). Internal causes travel on
 * `AppError.cause` and are logged, never serialised. docs/errors.md is generated from this table and a
 * test fails when the two drift.
 */

import { MAX_UPLOAD_BYTES, dimensionLimits, megabytes } from './limits.js';

export interface ErrorSpec {
  /** Cloudflare's numeric code. */
  readonly code: number;
  /** HTTP status of the response. */
  readonly status: number;
  /** Public message (without the `ERROR <code>: ` prefix). */
  readonly message: string;
  /** Whether the wire message carries the `ERROR <code>: ` prefix (Images API codes). */
  readonly prefixed: boolean;
  /** Where the code and status come from (digest section or "compat"). */
  readonly source: string;
  /** Headers every response with this error carries. */
  readonly headers?: Readonly<Record<string, string>>;
}

function spec(
  code: number,
  status: number,
  message: string,
  prefixed: boolean,
  source: string,
  headers?: Record<string, string>,
): ErrorSpec {
  return headers
    ? { code, status, message, prefixed, source, headers }
    : { code, status, message, prefixed, source };
}

export const errorCatalogue = {
  badRequest: spec(5400, 400, 'Bad Request.', true, 'digest §7.1'),
  keyNotFound: spec(5400, 404, 'Signing key not found.', true, 'compat'),
  variantNotFound: spec(5401, 404, 'Variant not found.', true, 'digest §7.1 (5401), status compat'),
  accountNotAuthorized: spec(
    5403,
    403,
    'The given account is not valid or is not authorized to access this service.',
    true,
    'digest §7.1',
  ),
  imageNotFound: spec(5404, 404, 'Image not found', true, 'digest §2.4, §7.1'),
  uploadTooSlow: spec(5408, 408, 'Client was sending upload too slowly.', true, 'digest §7.1'),
  // x-should-retry: false stops the TypeScript SDK from re-sending a request that can never succeed.
  alreadyExists: spec(5409, 409, 'Resource already exists', true, 'digest §4.3, §1.3', {
    'x-should-retry': 'false',
  }),
  fileTooLarge: spec(
    5413,
    413,
    `Maximum image size of ${megabytes(MAX_UPLOAD_BYTES)} is reached`,
    true,
    'digest §4.1',
  ),
  notMultipart: spec(
    5415,
    415,
    'Images must be uploaded as a form, not as raw image data. Please use multipart/form-data format.',
    true,
    'digest §4.2',
  ),
  uploadAborted: spec(5433, 400, 'Request has been aborted by the client.', true, 'digest §7.1'),
  imageTooLarge: spec(
    5443,
    400,
    `Image dimensions exceed the limits (${dimensionLimits()})`,
    true,
    'digest §4.1, §7.1',
  ),
  receiveError: spec(5450, 400, 'Error while receiving upload.', true, 'digest §7.1'),
  quotaReached: spec(
    5453,
    403,
    'The given account has reached a service limit.',
    true,
    'digest §7.1, status compat',
  ),
  unsupportedFormat: spec(
    5455,
    415,
    'Uploaded image must have image/jpeg, image/png, image/webp, image/gif, image/avif, image/heic or image/svg+xml content-type',
    true,
    'digest §4.2',
  ),
  internal: spec(5500, 500, 'Internal Server Error.', true, 'digest §7.1'),
  unavailable: spec(5503, 503, 'Server Unavailable.', true, 'digest §7.1', { 'retry-after': '5' }),
  storageError: spec(5540, 503, 'Error received from the storage.', true, 'digest §7.1', {
    'retry-after': '5',
  }),
  invalidHeaders: spec(6003, 400, 'Invalid request headers', false, 'digest §7.2'),
  noRoute: spec(
    7003,
    400,
    'Could not route to the requested URI, perhaps your object identifier is invalid?',
    false,
    'digest §7.2',
  ),
  methodNotAllowed: spec(10405, 405, 'Method not allowed for this route', false, 'compat'),
  missingCredentials: spec(
    9106,
    400,
    'Missing X-Auth-Key, X-Auth-Email or Authorization headers',
    false,
    'digest §7.2',
  ),
  unknownGlobalKey: spec(
    9103,
    403,
    'Unknown X-Auth-Key or X-Auth-Email',
    false,
    'Cloudflare API (global key auth), compat',
  ),
  invalidToken: spec(9109, 403, 'Invalid access token', false, 'digest §7.2'),
  authenticationError: spec(10000, 403, 'Authentication error', false, 'digest §7.2'),
  flexibleVariantsDisabled: spec(
    9429,
    403,
    'Flexible variants are not enabled for the account',
    false,
    'digest §5.3',
  ),
  // Delivery (imagedelivery.net and /cdn-cgi/imagedelivery): text bodies with a `Cf-Resized: err=<code>` header.
  invalidResizing: spec(9401, 400, 'Invalid resizing parameters', false, 'digest §7.3'),
  unsupportedSource: spec(9412, 415, 'The image could not be decoded', false, 'digest §7.3'),
  sourceTooLarge: spec(9413, 403, 'Image too large', false, 'digest §7.3'),
  accessDenied: spec(9425, 403, 'Image access denied', false, 'digest §5.7'),
  wrongAccount: spec(9427, 403, 'Image access denied with incorrect account id', false, 'digest §5.7'),
  deliveryNotFound: spec(9431, 404, 'Not found', false, 'digest §5.7'),
  deliveryBadRequest: spec(9432, 400, 'Bad request', false, 'digest §5.7'),
  // Transformation URLs (/cdn-cgi/image/): Cloudflare's codes (troubleshooting page); statuses chosen where it gives none.
  sourceFetchTooLarge: spec(
    9402,
    413,
    'The image was too large or the connection was interrupted',
    false,
    'digest §7.3',
  ),
  transformLoop: spec(
    9403,
    508,
    'Request loop: the image was already resized, or the source is a transformation URL',
    false,
    'troubleshooting (code), status compat',
  ),
  originNotFound: spec(9404, 404, 'The image does not exist on the origin server', false, 'digest §7.3'),
  originError: spec(
    9408,
    502,
    'The origin server answered with an error status',
    false,
    'troubleshooting (code), status compat',
  ),
  sourceUrlInvalid: spec(
    9419,
    400,
    'The source image URL is invalid',
    false,
    'troubleshooting (code), status compat',
  ),
  originRedirectInvalid: spec(
    9420,
    502,
    'The origin server redirected to an invalid or disallowed URL',
    false,
    'troubleshooting (code), status compat',
  ),
  originRedirectLoop: spec(
    9421,
    502,
    'The origin server redirected too many times',
    false,
    'troubleshooting (code), status compat',
  ),
  sourceNotAllowed: spec(
    9425,
    403,
    'Image access denied: the source is not on an allowed origin',
    false,
    'compat',
  ),
  originUnreachable: spec(
    9504,
    502,
    'The origin server could not be contacted',
    false,
    'troubleshooting (code), status compat',
  ),
  originTimeout: spec(
    9505,
    504,
    'The origin server did not answer in time',
    false,
    'troubleshooting (code), status compat',
  ),
  busy: spec(9503, 503, 'Too many images are being processed; retry shortly', false, 'compat', {
    'retry-after': '1',
  }),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof errorCatalogue;

export interface ErrorChainEntry {
  code: number;
  message: string;
}

/** An error that the API layer can serialise: a catalogue entry plus, optionally, a precise message. */
export class AppError extends Error {
  readonly spec: ErrorSpec;
  readonly detail: string | undefined;
  readonly chain: ErrorChainEntry[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    name: ErrorName,
    opts: {
      detail?: string;
      cause?: unknown;
      chain?: ErrorChainEntry[];
      headers?: Record<string, string>;
    } = {},
  ) {
    const s = errorCatalogue[name];
    super(opts.detail ?? s.message, { cause: opts.cause });
    this.name = 'AppError';
    this.spec = s;
    this.detail = opts.detail;
    this.chain = opts.chain;
    this.headers = { ...s.headers, ...opts.headers };
  }

  get status(): number {
    return this.spec.status;
  }

  get code(): number {
    return this.spec.code;
  }

  /**
   * The message as it goes on the wire.
   * @example new AppError('alreadyExists').publicMessage // 'ERROR 5409: Resource already exists'
   */
  get publicMessage(): string {
    const text = this.detail ?? this.spec.message;
    return this.spec.prefixed ? `ERROR ${this.spec.code}: ${text}` : text;
  }
}

/** Shorthand for `new AppError(name, { detail })`. */
export function appError(name: ErrorName, detail?: string): AppError {
  return new AppError(name, detail === undefined ? {} : { detail });
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
