/** Variant use cases: list, get, create, edit and delete, with the 100-per-account limit. */
import { appError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { invalid, is } from '../core/check.js';
import type { VariantRecord } from '../core/types.js';
import type { MetadataStore } from '../storage/types.js';
import { parseVariantOptions, VARIANT_ID_RE } from '../transform/variant-options.js';

export interface VariantsDeps {
  store: MetadataStore;
  clock: Clock;
  maxVariants: number;
  /** Called after a variant changes or goes, so caches drop its renditions. */
  onPurge?: (accountId: string, variantId: string) => void;
}

export interface VariantInput {
  id?: unknown;
  options?: unknown;
  neverRequireSignedURLs?: unknown;
}

function asInput(body: unknown): VariantInput {
  if (!is.plainObject(body)) throw appError('badRequest', invalid('body', 'JSON object', body));
  return body;
}

function checkNeverRequire(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw appError('badRequest', invalid('neverRequireSignedURLs', 'boolean', v));
  return v;
}

export class VariantsService {
  constructor(private readonly deps: VariantsDeps) {}

  list(accountId: string): Promise<VariantRecord[]> {
    return this.deps.store.listVariants(accountId);
  }

  /** The variant or null. */
  find(accountId: string, id: string): Promise<VariantRecord | null> {
    return this.deps.store.getVariant(accountId, id);
  }

  async get(accountId: string, id: string): Promise<VariantRecord> {
    const v = await this.deps.store.getVariant(accountId, id);
    if (!v) throw appError('variantNotFound', `Variant ${id} not found.`);
    return v;
  }

  async create(accountId: string, body: unknown): Promise<VariantRecord> {
    const input = asInput(body);
    if (typeof input.id !== 'string' || !VARIANT_ID_RE.test(input.id)) {
      throw appError('badRequest', invalid('id', '1 to 99 letters or digits', input.id));
    }
    if (input.options === undefined) throw appError('badRequest', invalid('options', 'object', undefined));
    const parsed = parseVariantOptions(input.options);
    if (!parsed.ok) throw appError('badRequest', parsed.error);
    const variant: VariantRecord = {
      accountId,
      id: input.id,
      options: parsed.value,
      neverRequireSignedURLs: checkNeverRequire(input.neverRequireSignedURLs) ?? false,
      version: 1,
      createdAt: this.deps.clock.now(),
    };
    const result = await this.deps.store.insertVariant(variant, this.deps.maxVariants);
    if (result === 'exists') throw appError('alreadyExists', `Variant ${input.id} already exists`);
    if (result === 'limit')
      throw appError('badRequest', `An account can have at most ${this.deps.maxVariants} variants`);
    return variant;
  }

  async update(accountId: string, id: string, body: unknown): Promise<VariantRecord> {
    const input = asInput(body);
    await this.get(accountId, id);
    if (input.options === undefined) throw appError('badRequest', invalid('options', 'object', undefined));
    const parsed = parseVariantOptions(input.options);
    if (!parsed.ok) throw appError('badRequest', parsed.error);
    const never = checkNeverRequire(input.neverRequireSignedURLs);
    const updated = await this.deps.store.updateVariant(accountId, id, {
      options: parsed.value,
      ...(never === undefined ? {} : { neverRequireSignedURLs: never }),
    });
    if (!updated) throw appError('variantNotFound', `Variant ${id} not found.`);
    this.deps.onPurge?.(accountId, id);
    return updated;
  }

  async delete(accountId: string, id: string): Promise<void> {
    if (id === 'public') throw appError('badRequest', 'The public variant cannot be deleted');
    const gone = await this.deps.store.deleteVariant(accountId, id);
    if (!gone) throw appError('variantNotFound', `Variant ${id} not found.`);
    this.deps.onPurge?.(accountId, id);
  }
}
