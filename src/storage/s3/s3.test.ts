import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { blobStoreContract } from '../contract/blob.contract.js';
import { createS3BlobStore } from './index.js';
import { startTestS3, type TestS3 } from '../../../test/helpers/s3.js';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3?.close();
});

// Each store gets a prefix of its own inside the bucket.
// s3rver writes objects to disk in place, so a concurrent reader can see a prefix and concurrent
// overwrites can interleave; real S3 (and R2, MinIO) replace objects atomically. Pictor's blob keys are
// random and written once before any row points at them, so it never depends on either. Against a
// real service (S3_ENDPOINT set) the two tests run.
const S3RVER_LIMITS = process.env.S3_ENDPOINT
  ? []
  : [
      'concurrent puts to the same key never leave a mixed or partial object',
      'a reader never sees a prefix of an object being written',
    ];

blobStoreContract({
  name: 's3',
  skip: S3RVER_LIMITS,
  create: async () =>
    createS3BlobStore({
      endpoint: s3.endpoint,
      region: s3.region,
      bucket: s3.bucket,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      forcePathStyle: true,
      prefix: `t-${randomBytes(6).toString('hex')}/`,
      partSize: 5 * 1024 * 1024,
    }),
});
