/**
 * The wire shapes of the REST API as JSON Schema, written with TypeBox: one declaration gives the
 * request validator (Ajv, see validation.ts), the response serialiser (fast-json-stringify), the
 * OpenAPI document (@fastify/swagger) and, through `Static<>`, the handler's TypeScript type.
 *
 * Annotations read by the error formatter (validation.ts), so a schema failure carries the one
 * validation sentence of core/check.ts:
 * - `x-expected`: the "Expected <x>" text for that value;
 * - `x-error`: a whole message that replaces the sentence (Cloudflare's own wording, e.g. metadata).
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { FITS, METADATA_MODES } from '../core/types.js';
import { MAX_BROWSER_TTL, MIN_BROWSER_TTL } from '../transform/variant-options.js';

const nullable = <T extends TSchema>(t: T, options: Record<string, unknown> = {}) =>
  Type.Union([t, Type.Null()], options);

// ---------------------------------------------------------------------------------------------------
// Envelope
// ---------------------------------------------------------------------------------------------------

const Message = Type.Object({ code: Type.Integer(), message: Type.String() });

export const ErrorEnvelope = Type.Object(
  {
    result: Type.Null(),
    success: Type.Boolean(),
    errors: Type.Array(
      Type.Object({
        code: Type.Integer(),
        message: Type.String(),
        error_chain: Type.Optional(Type.Array(Message)),
      }),
    ),
    messages: Type.Array(Type.Unknown()),
  },
  { description: 'A failure: `success: false`, `result: null` and one error (code, message).' },
);

/** The success envelope around `result`, plus the error envelope for every 4xx and 5xx answer. */
export function envelope<T extends TSchema>(
  result: T,
  description: string,
  extra: Record<string, TSchema> = {},
) {
  return {
    200: Type.Object(
      {
        result,
        success: Type.Boolean(),
        errors: Type.Array(Message),
        messages: Type.Array(Type.Unknown()),
        ...extra,
      },
      { description },
    ),
    '4xx': ErrorEnvelope,
    '5xx': ErrorEnvelope,
  };
}

// ---------------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------------

export const ImageJson = Type.Object({
  id: Type.String({ description: 'A UUID, or a custom id (may contain `/`).' }),
  filename: nullable(Type.String()),
  meta: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), { description: 'User metadata, at most 1,024 bytes.' }),
  ),
  // Optional in the document because Cloudflare's Image schema lacks it; Pictor always sends it.
  creator: Type.Optional(nullable(Type.String())),
  requireSignedURLs: Type.Boolean(),
  uploaded: Type.String({ format: 'date-time' }),
  variants: Type.Array(Type.String({ format: 'uri' }), {
    description: 'One delivery URL per variant of the account.',
  }),
  draft: Type.Optional(
    Type.Boolean({ description: 'Only on direct uploads that have not received their file.' }),
  ),
});

export const VariantOptionsJson = Type.Object({
  // enum, not a union of literals: fast-json-stringify serialises it as a plain string.
  fit: Type.String({ enum: [...FITS] }),
  metadata: Type.String({ enum: [...METADATA_MODES] }),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  browser_ttl: Type.Optional(Type.Integer()),
});

export const VariantJson = Type.Object({
  id: Type.String(),
  options: VariantOptionsJson,
  neverRequireSignedURLs: Type.Boolean(),
});

export const KeysJson = Type.Object({
  keys: Type.Array(Type.Object({ name: Type.String(), value: Type.String() })),
});

export const StatsJson = Type.Object({
  count: Type.Object({ current: Type.Integer(), allowed: Type.Integer() }),
});

export const ConfigJson = Type.Object({ flexible_variants: Type.Boolean(), browser_ttl: Type.Integer() });

// ---------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------

export const AccountParams = Type.Object({
  account_id: Type.String({ pattern: '^[0-9a-f]{32}$', description: 'Account identifier (32 hex digits).' }),
});

/** A JSON request body: any object; other JSON values are refused with the sentence naming `body`. */
const bodyObject = <P extends Record<string, TSchema>>(
  props: P,
  expected = 'JSON object',
  required: string[] = [],
) => Type.Object(props, { 'x-expected': expected, ...(required.length ? { required } : {}) });

const metadataObject = Type.Record(Type.String(), Type.Unknown(), {
  'x-error': 'Metadata must be a JSON object',
  description: 'User metadata: a JSON object of at most 1,024 bytes once serialised.',
});

export const PatchImageBody = bodyObject({
  metadata: Type.Optional(metadataObject),
  requireSignedURLs: Type.Optional(Type.Boolean({ 'x-expected': 'boolean' })),
  creator: Type.Optional(nullable(Type.String(), { 'x-expected': 'string or null' })),
});

/** Integers in a query string stay strings here, so the sentence reports the text that was sent. */
const queryInteger = (description: string) =>
  Type.String({ pattern: '^(-?[0-9]{1,11})?$', 'x-expected': 'integer (at most 11 digits)', description });

export const ListV1Query = Type.Object({
  page: Type.Optional(queryInteger('Page number, from 1.')),
  per_page: Type.Optional(queryInteger('Images per page: 10 to 10,000 (clamped), default 1000.')),
  creator: Type.Optional(
    Type.String({
      'x-expected': 'string',
      description: 'Only images of this creator; empty: images without one.',
    }),
  ),
});

export const ListV2Query = Type.Object(
  {
    per_page: Type.Optional(queryInteger('Images per page: 10 to 10,000 (clamped), default 1000.')),
    sort_order: Type.Optional(
      Type.Union([Type.Literal('asc'), Type.Literal('desc')], { 'x-expected': 'asc or desc' }),
    ),
    creator: Type.Optional(Type.String({ 'x-expected': 'string' })),
    continuation_token: Type.Optional(Type.String({ 'x-expected': 'a token from a previous page' })),
  },
  {
    description:
      'Also `meta.<field>[<op>]=<value>` filters (eq, gt, gte, lt, lte, in, with :string, :number or :boolean).',
    additionalProperties: true,
  },
);

export const ConfigBody = bodyObject({
  flexible_variants: Type.Optional(Type.Boolean({ 'x-expected': 'boolean' })),
  browser_ttl: Type.Optional(
    Type.Integer({
      minimum: MIN_BROWSER_TTL,
      maximum: MAX_BROWSER_TTL,
      'x-expected': `integer between ${MIN_BROWSER_TTL} and ${MAX_BROWSER_TTL}`,
    }),
  ),
});

const boolish = Type.Union(
  [
    Type.Boolean(),
    Type.Literal('true'),
    Type.Literal('false'),
    Type.Literal('1'),
    Type.Literal('0'),
    Type.Null(),
  ],
  {
    'x-expected': 'boolean',
  },
);

export const DirectUploadBody = bodyObject(
  {
    id: Type.Optional(nullable(Type.String(), { 'x-expected': 'string' })),
    creator: Type.Optional(nullable(Type.String(), { 'x-expected': 'string' })),
    expiry: Type.Optional(
      nullable(Type.String({ description: 'ISO 8601 date-time, 2 minutes to 6 hours ahead' }), {
        'x-expected': 'string',
      }),
    ),
    metadata: Type.Optional(
      Type.Union(
        [
          Type.Record(Type.String(), Type.Unknown()),
          Type.String({ description: 'JSON text of an object' }),
          Type.Null(),
        ],
        {
          'x-error': 'Metadata must be a JSON object',
        },
      ),
    ),
    requireSignedURLs: Type.Optional(boolish),
  },
  'JSON object or multipart form',
);

export const VariantBody = bodyObject(
  {
    id: Type.String({ pattern: '^[a-zA-Z0-9]{1,99}$', 'x-expected': '1 to 99 letters or digits' }),
    options: Type.Unknown({
      'x-expected': 'object',
      description: 'fit, metadata, width, height (and browser_ttl).',
    }),
    neverRequireSignedURLs: Type.Optional(nullable(Type.Boolean(), { 'x-expected': 'boolean' })),
  },
  'JSON object',
  ['id', 'options'],
);

export const VariantPatchBody = bodyObject(
  {
    options: Type.Unknown({
      'x-expected': 'object',
      description: 'fit, metadata, width, height (and browser_ttl).',
    }),
    neverRequireSignedURLs: Type.Optional(nullable(Type.Boolean(), { 'x-expected': 'boolean' })),
  },
  'JSON object',
  ['options'],
);

export const KeyParams = Type.Object({
  account_id: AccountParams.properties.account_id,
  signing_key_name: Type.String({
    pattern: '^[a-zA-Z0-9]{1,20}$',
    'x-expected': '1 to 20 letters or digits',
  }),
});

export const VariantParams = Type.Object({
  account_id: AccountParams.properties.account_id,
  variant_id: Type.String(),
});

/** The multipart upload form, for the document only (the route reads the stream itself). */
export const UploadForm = Type.Object({
  file: Type.Optional(Type.String({ format: 'binary', description: 'The image (or use url).' })),
  url: Type.Optional(Type.String({ format: 'uri', description: 'Fetch the image from this URL instead.' })),
  id: Type.Optional(Type.String({ description: 'A custom id (1..1024 characters, may contain /).' })),
  metadata: Type.Optional(Type.String({ description: 'JSON object, or metadata[key] fields.' })),
  requireSignedURLs: Type.Optional(Type.String({ enum: ['true', 'false'] })),
  creator: Type.Optional(Type.String()),
});
