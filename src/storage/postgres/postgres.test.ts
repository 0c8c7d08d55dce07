import { randomBytes } from 'node:crypto';
import { metadataStoreContract } from '../contract/metadata.contract.js';
import { createPostgresMetadataStore } from './index.js';
import { dropSchema, postgresAvailable, TEST_DATABASE_URL } from '../../../test/helpers/postgres.js';

// Each store gets a schema of its own, dropped when the store closes.
const available = await postgresAvailable();

metadataStoreContract({
  name: 'postgres',
  skipAll: !available,
  create: async () => {
    const schema = `pictor_t_${randomBytes(6).toString('hex')}`;
    const store = createPostgresMetadataStore({ connectionString: TEST_DATABASE_URL, schema, max: 4 });
    const close = store.close.bind(store);
    store.close = async () => {
      await close();
      await dropSchema(schema);
    };
    return store;
  },
});
