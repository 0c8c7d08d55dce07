/** What the API modules need: services and a few settings. Built by server/compose.ts. */
import type { Account } from '../core/types.js';
import type { AccountsService } from '../services/accounts.js';
import type { ImagesService } from '../services/images.js';
import type { KeysService } from '../services/keys.js';
import type { VariantsService } from '../services/variants.js';
import type { DirectUploadService } from '../services/direct-upload.js';

export interface ApiContext {
  accounts: AccountsService;
  images: ImagesService;
  variants: VariantsService;
  keys: KeysService;
  directUploads: DirectUploadService;
  /** Base of one-time upload URLs; undefined: `<publicUrl>/upload`. */
  uploadBase: string | undefined;
  /** Base of delivery URLs; set by the server once it knows its port when not configured. */
  publicUrl: string;
  maxUploadBytes: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The account of `/accounts/{account_id}`, set by the auth hook. */
    account: Account;
  }
}
