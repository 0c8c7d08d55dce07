/**
 * BlobStore on S3-compatible object storage (@aws-sdk/client-s3): AWS S3, Cloudflare R2, MinIO, Ceph.
 * Large objects go up as multipart uploads (@aws-sdk/lib-storage); S3 writes are atomic per object,
 * so a reader never sees a prefix.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { BlobObject, BlobStore, ByteRange } from '../types.js';

export interface S3BlobConfig {
  endpoint?: string | undefined;
  region: string;
  bucket: string;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  forcePathStyle?: boolean | undefined;
  /** Key prefix inside the bucket (e.g. `pictor/`). */
  prefix?: string | undefined;
  /** Objects larger than this go up in parts; default 8 MiB. */
  partSize?: number | undefined;
}

const KEY_RE = /^[A-Za-z0-9_\-./]+$/;

/**
 * Creates an S3 blob store; fails fast on a missing bucket name.
 * @example const blobs = createS3BlobStore({ endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', bucket: 'pictor', forcePathStyle: true });
 */
export function createS3BlobStore(config: S3BlobConfig): BlobStore & { check(): Promise<void> } {
  if (!config.bucket) throw new Error('createS3BlobStore: bucket is required');
  const clientConfig: S3ClientConfig = {
    region: config.region,
    forcePathStyle: config.forcePathStyle ?? false,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.accessKeyId && config.secretAccessKey
      ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
      : {}),
    maxAttempts: 2,
    // Without these a service that accepts connections but never answers would hang requests forever.
    requestHandler: { connectionTimeout: 2000, requestTimeout: 3000, throwOnRequestTimeout: true },
  };
  return new S3BlobStore(
    new S3Client(clientConfig),
    config.bucket,
    config.prefix ?? '',
    config.partSize ?? 8 * 1024 * 1024,
  );
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404;
}

class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly partSize: number,
  ) {}

  private keyOf(key: string): string {
    if (
      !key ||
      !KEY_RE.test(key) ||
      key.startsWith('/') ||
      key.split('/').some((s) => s === '..' || s === '.' || s === '')
    ) {
      throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
    }
    return `${this.prefix}${key}`;
  }

  /** Checks that the bucket answers (used at start-up). */
  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async put(key: string, data: Buffer): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.keyOf(key), Body: data, ContentLength: data.length },
      partSize: Math.max(5 * 1024 * 1024, this.partSize),
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async get(key: string, opts: { range?: ByteRange } = {}): Promise<BlobObject | null> {
    const Key = this.keyOf(key);
    try {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key,
          ...(opts.range ? { Range: `bytes=${opts.range.start}-${opts.range.end}` } : {}),
        }),
      );
      let body = Buffer.from(await res.Body!.transformToByteArray());
      let size = body.length;
      const cr = /^bytes (\d+)-\d+\/(\d+)$/.exec(res.ContentRange ?? '');
      if (cr) size = Number(cr[2]);
      else if (!opts.range && res.ContentLength !== undefined) size = res.ContentLength;
      if (opts.range) {
        // Some S3-compatible servers send more than asked (a whole object, or `0-0` read as open-ended):
        // cut the asked range out of what came, relative to where it starts.
        const first = cr ? Number(cr[1]) : 0;
        const want = Math.max(0, Math.min(opts.range.end, size - 1) - opts.range.start + 1);
        body = body.subarray(opts.range.start - first, opts.range.start - first + want);
      }
      return { body, size, etag: res.ETag ?? `"${size}"`, lastModified: res.LastModified ?? new Date(0) };
    } catch (e) {
      if (isNotFound(e)) return null;
      // A range starting past the end of the object: nothing to return, but the object exists.
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416) {
        const whole = await this.get(key);
        return whole ? { ...whole, body: Buffer.alloc(0) } : null;
      }
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
  }

  async *list(): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix || undefined,
          ContinuationToken: token,
        }),
      );
      for (const o of res.Contents ?? []) if (o.Key) yield o.Key.slice(this.prefix.length);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
