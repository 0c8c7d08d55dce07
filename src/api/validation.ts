/**
 * Request validation: Ajv compiles each route's params, query and body schema (schemas.ts), and a
 * failure becomes the Cloudflare 400 with the one validation sentence of core/check.ts, e.g.
 * `ERROR 5400: Expected boolean for requireSignedURLs but received "yes" of type string`.
 *
 * Two Ajv instances because the parts differ: bodies are JSON and are never coerced (`"true"` is
 * not a boolean); params and query strings are text and are validated as text. Neither removes
 * properties or fills defaults: the handler sees what was sent.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { invalid } from '../core/check.js';

function newAjv(): Ajv {
  // verbose: errors carry the failing value and the schema that refused it (for the sentence).
  const ajv = new Ajv({
    allErrors: false,
    verbose: true,
    strict: true,
    coerceTypes: false,
    useDefaults: false,
    removeAdditional: false,
  });
  ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-error', schemaType: 'string' });
  // OpenAPI annotations that are not validation keywords.
  ajv.addVocabulary(['example']);
  return ajv;
}

const compilers = { body: newAjv(), text: newAjv() };

/**
 * What the JSON parser hands on for a body that is the literal `null`, so it stays apart from "no
 * body" (which Fastify also reports as null) and is refused as a non-object.
 */
export const JSON_NULL: unique symbol = Symbol('pictor.json-null');

/** The error's message and status come from AppError in toAppError (server/app.ts). */
export class SchemaValidationError extends Error {
  override readonly name = 'SchemaValidationError';
}

interface Annotated {
  'x-expected'?: string;
  'x-error'?: string;
  properties?: Record<string, Annotated>;
}

/** The name of the failing value: a property path like `metadata.a`, or the part itself. */
function nameOf(e: ErrorObject, part: string): string {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'required') path.push((e.params as { missingProperty: string }).missingProperty);
  return path.length ? path.join('.') : part;
}

/** What a keyword expected, when the schema carries no `x-expected`. */
function expectedOf(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return String(p.type);
    case 'enum':
      return `one of ${(p.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return String(p.allowedValue);
    case 'pattern':
      return `string matching ${String(p.pattern)}`;
    default:
      return `value that satisfies ${e.keyword} ${JSON.stringify(p)}`;
  }
}

/**
 * The one sentence for the first failure. An annotated schema (the failing one, or for `required`
 * the missing property's) gives the words; Ajv's reports from inside a union are skipped in favour
 * of the union's own, which carries the annotation.
 * @example formatSchemaError([{ keyword: 'type', instancePath: '/creator', data: 5, … }], 'body')
 *   // 'Expected string or null for creator but received 5 of type number'
 */
export function formatSchemaError(errors: ErrorObject[], part: string): string {
  const annotation = (e: ErrorObject): Annotated | undefined => {
    const parent = e.parentSchema as Annotated | undefined;
    if (e.keyword === 'required')
      return parent?.properties?.[(e.params as { missingProperty: string }).missingProperty];
    return parent;
  };
  const chosen =
    errors.find((e) => annotation(e)?.['x-error'] || annotation(e)?.['x-expected']) ?? errors[0]!;
  const a = annotation(chosen);
  if (a?.['x-error']) return a['x-error'];
  const actual = chosen.keyword === 'required' ? undefined : chosen.data;
  return invalid(nameOf(chosen, part), a?.['x-expected'] ?? expectedOf(chosen), actual);
}

/**
 * Fastify's validator compiler. A route called without a JSON body is validated as `{}` (SDKs send
 * DELETE and PATCH without one; multipart bodies are streams the handler reads), and the handler
 * receives `{}`.
 */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const part = httpPart === 'body' ? 'body' : httpPart === 'params' ? 'path' : 'query';
  const validate: ValidateFunction = (httpPart === 'body' ? compilers.body : compilers.text).compile(
    schema as object,
  );
  return (data: unknown) => {
    // Fastify gives null or undefined when nothing was parsed (no body, a multipart stream, another type).
    const value =
      httpPart !== 'body'
        ? data
        : data === JSON_NULL
          ? null
          : data === undefined || data === null
            ? {}
            : data;
    if (validate(value)) return { value };
    return { error: new SchemaValidationError(formatSchemaError(validate.errors ?? [], part)) };
  };
};
