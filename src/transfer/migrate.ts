/**
 * `pictor migrate`: copies an account between two Cloudflare-Images-compatible APIs (Cloudflare →
 * Pictor, Pictor → Pictor, Pictor → Cloudflare). Settings first (variants with
 * neverRequireSignedURLs, flexible variants, browser TTL, signing keys), then every image through
 * the ordinary upload API, then optionally a verification of both sides.
 *
 * What a target cannot keep is found from its answers, not guessed from its name: a key whose value
 * comes back different, an `uploaded` time not kept, a generated (UUID) id refused, another account
 * hash. Each is listed in `notPreserved`.
 */
import { isDeepStrictEqual } from 'node:util';
import { apiSource, sha256 } from './api-source.js';
import { runTransfer, type Outcome, type TransferReport } from './engine.js';
import { hashFromDeliveryUrl, metaOf, type ImageJson, type ImagesApi } from './images-api.js';
import { createSink, creatorOf } from './sink.js';
import type { Progress } from './progress.js';

export interface MigrateOptions {
  from: ImagesApi;
  to: ImagesApi;
  concurrency?: number;
  dryRun?: boolean;
  overwrite?: boolean;
  verify?: boolean;
  state?: string;
  progress?: Progress;
  verifyProgress?: Progress;
  onItem?: (key: string, outcome: Outcome | { result: 'failed'; reason: string }) => void;
}

export interface MigrateReport extends TransferReport {
  /** What the settings step did (or would do). */
  settings: string[];
  /** What the target could not keep, one sentence each. */
  notPreserved: string[];
  conflicts: number;
  /** Generated ids the target replaced (listed up to 1000). */
  idChanges: Array<{ from: string; to: string }>;
  verify?: { ok: boolean; checked: number; differences: Array<{ key: string; reason: string }> };
  sourceHash?: string | undefined;
  targetHash?: string | undefined;
}

/** Copies settings: variants, flexible variants and browser TTL, then signing keys. */
async function migrateSettings(
  from: ImagesApi,
  to: ImagesApi,
  dryRun: boolean,
  notPreserved: string[],
): Promise<string[]> {
  const lines: string[] = [];
  const [srcVariants, dstVariants] = await Promise.all([from.variants(), to.variants()]);
  const existing = new Map(dstVariants.map((v) => [v.id, v]));
  for (const v of srcVariants) {
    const there = existing.get(v.id);
    const same =
      there &&
      isDeepStrictEqual(there.options, v.options) &&
      (there.neverRequireSignedURLs ?? false) === (v.neverRequireSignedURLs ?? false);
    if (same) continue;
    lines.push(
      `${there ? 'update' : 'create'} variant ${v.id}${v.neverRequireSignedURLs ? ' (neverRequireSignedURLs)' : ''}`,
    );
    if (dryRun) continue;
    try {
      if (there) await to.updateVariant(v);
      else await to.createVariant(v);
    } catch (e) {
      notPreserved.push(`variant ${v.id}: the target refused it (${(e as Error).message})`);
    }
  }
  const [srcConfig, dstConfig] = await Promise.all([from.config(), to.config()]);
  if (
    srcConfig.flexible_variants !== dstConfig.flexible_variants ||
    srcConfig.browser_ttl !== dstConfig.browser_ttl
  ) {
    lines.push(`set flexible_variants=${srcConfig.flexible_variants}, browser_ttl=${srcConfig.browser_ttl}`);
    if (!dryRun)
      await to.setConfig({
        flexible_variants: srcConfig.flexible_variants,
        browser_ttl: srcConfig.browser_ttl,
      });
  }
  const [srcKeys, dstKeys] = await Promise.all([from.keys(), to.keys()]);
  const dst = new Map(dstKeys.map((k) => [k.name, k.value]));
  for (const k of srcKeys) {
    if (dst.get(k.name) === k.value) continue;
    lines.push(`${dst.has(k.name) ? 'set the value of' : 'create'} signing key ${k.name}`);
    if (dryRun) continue;
    // The value travels in the body (a Pictor extension); a target that ignores it makes its own.
    const after = await to.putKey(k.name, k.value);
    if (after.find((x) => x.name === k.name)?.value !== k.value) {
      notPreserved.push(
        `signing key ${k.name}: the target gave it a value of its own, so signed URLs made with the source's key do not verify there; sign new URLs with the target's key (GET .../images/v1/keys)`,
      );
    }
  }
  return lines;
}

/** Runs the migration. */
export async function migrate(opts: MigrateOptions): Promise<MigrateReport> {
  const { from, to } = opts;
  const dryRun = opts.dryRun ?? false;
  const notPreserved: string[] = [];
  const settings = await migrateSettings(from, to, dryRun, notPreserved);
  let sourceHash: string | undefined;
  let targetHash: string | undefined;
  // A peek at the target's images gives its hash before anything is copied.
  const peek = await to.listV2(null, 10).catch(() => ({ images: [] as ImageJson[] }));
  for (const i of peek.images) targetHash ??= i.variants.map(hashFromDeliveryUrl).find(Boolean);
  const speek = await from.listV2(null, 10);
  for (const i of speek.images) sourceHash ??= i.variants.map(hashFromDeliveryUrl).find(Boolean);
  const sink = createSink(to, { overwrite: opts.overwrite ?? false });
  const process = (image: ImageJson, dry: boolean): Promise<Outcome> => {
    sourceHash ??= image.variants.map(hashFromDeliveryUrl).find(Boolean);
    return sink.put(image, () => from.blob(image.id), dry);
  };

  const report = await runTransfer({
    source: apiSource(from),
    process,
    concurrency: opts.concurrency ?? 4,
    dryRun,
    ...(opts.state ? { state: { path: opts.state, run: `migrate ${from.url('')} -> ${to.url('')}` } } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
    ...(opts.onItem ? { onItem: opts.onItem } : {}),
  });

  const { lostTimes, idChangeCount, idChanges, conflicts } = sink.stats;
  targetHash ??= sink.stats.targetHash;
  if (sourceHash && targetHash && sourceHash !== targetHash) {
    notPreserved.push(
      `account hash: the source delivers under ${sourceHash}, the target under ${targetHash}, so delivery URLs change by more than the host. ` +
        `On a Pictor target, create an account with the source's hash and migrate into it: \`pictor account create --hash ${sourceHash}\` ` +
        `(or start a new Pictor with PICTOR_ACCOUNT_HASH=${sourceHash}).`,
    );
  }
  if (lostTimes > 0)
    notPreserved.push(
      `upload times: the target set its own \`uploaded\` on ${lostTimes} images (it ignores the field)`,
    );
  if (idChangeCount > 0) {
    notPreserved.push(
      `ids: ${idChangeCount} images with generated (UUID) ids got new ids on the target, which refuses UUID-shaped ids; see idChanges`,
    );
  }
  const out: MigrateReport = {
    ...report,
    settings,
    notPreserved,
    conflicts,
    idChanges,
    sourceHash,
    targetHash,
  };
  if (opts.verify && !dryRun) out.verify = await verify(from, to, opts.concurrency ?? 4, opts.verifyProgress);
  return out;
}

/**
 * Compares both sides: every source image must be on the target with the same metadata, creator,
 * private flag and bytes (sha256), and the target must hold no image the source does not.
 */
export async function verify(
  from: ImagesApi,
  to: ImagesApi,
  concurrency: number,
  progress?: Progress,
): Promise<NonNullable<MigrateReport['verify']>> {
  const report = await runTransfer({
    source: apiSource(from),
    concurrency,
    ...(progress ? { progress } : {}),
    async process(image) {
      const there = await to.details(image.id);
      if (!there) throw new Error('missing on the target');
      const diffs: string[] = [];
      if (!isDeepStrictEqual(metaOf(there), metaOf(image)))
        diffs.push(`metadata ${JSON.stringify(metaOf(there))} ≠ ${JSON.stringify(metaOf(image))}`);
      if (creatorOf(there) !== creatorOf(image))
        diffs.push(`creator ${JSON.stringify(creatorOf(there))} ≠ ${JSON.stringify(creatorOf(image))}`);
      if (there.requireSignedURLs !== image.requireSignedURLs)
        diffs.push(`requireSignedURLs ${there.requireSignedURLs} ≠ ${image.requireSignedURLs}`);
      const [a, b] = await Promise.all([from.blob(image.id), to.blob(image.id)]);
      if (sha256(a) !== sha256(b))
        diffs.push(`sha256 ${sha256(b).slice(0, 12)}… ≠ ${sha256(a).slice(0, 12)}…`);
      if (diffs.length > 0) throw new Error(diffs.join('; '));
      return { result: 'skipped', bytes: a.length };
    },
  });
  const differences = [...report.failed];
  const [sourceCount, targetCount] = await Promise.all([from.count(), to.count()]);
  if (sourceCount !== undefined && targetCount !== undefined && targetCount !== sourceCount) {
    differences.push({
      key: '(account)',
      reason: `the target holds ${targetCount} images, the source ${sourceCount}`,
    });
  }
  return {
    ok: differences.length === 0 && report.failedNotListed === 0,
    checked: report.skipped + report.failed.length + report.failedNotListed,
    differences,
  };
}
