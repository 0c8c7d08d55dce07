/**
 * The import rules of ARCHITECTURE.md, checked by dependency-cruiser (`npm run depcruise`, part of
 * `npm run lint`; test/architecture.test.ts runs it too). It reads every static import, `export …
 * from`, dynamic `import()` and type-only import, resolves each to a file or an npm package, and
 * fails on any rule below. Keep this table and ARCHITECTURE.md's "may import" column the same.
 */

/** src/ folder (or file) → what in src/ it may import besides itself. `*` is anything. */
const MAY_IMPORT = {
  core: [],
  config: ['core'],
  'storage/types.ts': ['core'],
  'storage/sql': ['core', 'storage/types.ts'],
  'storage/sqlite': ['core', 'storage/types.ts', 'storage/sql'],
  'storage/postgres': ['core', 'storage/types.ts', 'storage/sql'],
  'storage/fs': ['core', 'storage/types.ts'],
  'storage/s3': ['core', 'storage/types.ts'],
  'storage/contract': ['core', 'storage/types.ts'],
  transform: ['core'],
  pipeline: ['core', 'transform'],
  security: ['core', 'config'],
  // From pipeline/ only probing, the completeness checks, SVG sanitising and the gate that bounds
  // inspection (no sharp calls).
  services: [
    'core',
    'storage/types.ts',
    'pipeline/probe.ts',
    'pipeline/integrity.ts',
    'pipeline/svg-sanitize.ts',
    'pipeline/gate.ts',
    'security',
    'transform',
  ],
  api: ['services', 'security', 'core', 'transform'],
  delivery: ['services', 'transform', 'pipeline', 'security', 'core', 'storage/types.ts'],
  server: ['*'],
  transfer: ['core'],
  cli: ['server', 'services', 'config', 'core', 'transfer'],
};

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A regular expression for a src/ unit: a file exactly, or a folder and everything below it. */
const unit = (u) => `^src/${esc(u)}${u.endsWith('.ts') ? '$' : '/'}`;
const TEST_FILE = '\\.test\\.ts$';
/** Every kind of npm dependency as dependency-cruiser names them (resolved or not). */
const NPM = ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'];
/** `to` for an npm package by name (its resolved path under node_modules). */
const pkg = (...names) => `(^|/)node_modules/(${names.map(esc).join('|')})/`;

const folderRules = Object.entries(MAY_IMPORT)
  .filter(([, allowed]) => !allowed.includes('*'))
  .map(([from, allowed]) => ({
    name: `src/${from} imports only ${allowed.length ? allowed.join(', ') : 'itself'}`,
    comment: `ARCHITECTURE.md: src/${from} may import ${allowed.length ? allowed.join(', ') : 'nothing in src/'}.`,
    severity: 'error',
    // Unit tests beside the code may also use the storage contract suites and test/helpers.
    from: { path: unit(from), pathNot: TEST_FILE },
    to: { path: '^src/', pathNot: [unit(from), ...allowed.map(unit)] },
  }));

/** npm packages that only some folders may import (a driver used elsewhere would bypass its adapter). */
const PACKAGE_HOMES = [
  { names: ['sharp'], homes: ['src/pipeline'], why: 'src/pipeline/ is the only importer of sharp' },
  { names: ['better-sqlite3'], homes: ['src/storage/sqlite'], why: 'the SQLite driver lives in its adapter' },
  { names: ['pg'], homes: ['src/storage/postgres'], why: 'the PostgreSQL driver lives in its adapter' },
  {
    names: ['kysely'],
    homes: ['src/storage/sql', 'src/storage/sqlite', 'src/storage/postgres'],
    why: 'SQL is written only in the SQL store and its dialect factories',
  },
  {
    names: ['@aws-sdk/lib-storage'],
    homes: ['src/storage/s3'],
    why: 'multipart uploads to S3 belong to the S3 blob store',
  },
  {
    names: ['@aws-sdk/client-s3'],
    homes: ['src/storage/s3', 'src/transfer'],
    why: 'S3 is reached by the S3 blob store and, as a client, by import from an S3 prefix',
  },
  {
    names: ['fastify', '@fastify/multipart', '@fastify/static', '@fastify/swagger', '@fastify/swagger-ui'],
    homes: ['src/api', 'src/delivery', 'src/server'],
    why: 'HTTP belongs to the wire layers and the composition root; services know no framework',
  },
  { names: ['preact'], homes: ['dashboard'], why: 'Preact is the dashboard’s alone' },
];
const packageRules = PACKAGE_HOMES.map(({ names, homes, why }) => ({
  name: `${names[0]} only from ${homes.join(', ')}`,
  comment: `ARCHITECTURE.md: ${why}. Tests, benchmarks and scripts may use it too.`,
  severity: 'error',
  from: { pathNot: [...homes.map((h) => `^${esc(h)}/`), '^(test|bench|scripts)/', TEST_FILE] },
  to: { path: pkg(...names) },
}));

module.exports = {
  forbidden: [
    {
      name: 'every file in src/ belongs to a folder of ARCHITECTURE.md',
      comment: 'test/architecture.test.ts also checks files that import nothing against this list.',
      severity: 'error',
      from: { path: '^src/', pathNot: [...Object.keys(MAY_IMPORT).map(unit), TEST_FILE] },
      to: {},
    },
    ...folderRules,
    ...packageRules,
    {
      name: 'src never imports test/, bench/, scripts/ or dashboard/',
      severity: 'error',
      from: { path: '^src/', pathNot: TEST_FILE },
      to: { path: '^(test|bench|scripts|dashboard)/' },
    },
    {
      name: 'src unit tests use only test/helpers of test/',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test/(?!helpers/)|bench/|scripts/|dashboard/)' },
    },
    {
      name: 'production code uses no devDependency',
      comment: 'What src/ imports at run time must be in "dependencies", or an installed pictor lacks it.',
      severity: 'error',
      from: { path: '^src/', pathNot: [TEST_FILE, '^src/storage/contract/'] },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'dashboard imports nothing of src/ but src/api',
      comment: 'ARCHITECTURE.md: dashboard/ is a client of the public API, like any other.',
      severity: 'error',
      from: { path: '^dashboard/' },
      to: { path: '^(src/(?!api/)|test/|bench/|scripts/)' },
    },
    {
      name: 'dashboard imports src/api types only',
      severity: 'error',
      from: { path: '^dashboard/' },
      to: { path: '^src/api/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'dashboard code imports no package but preact',
      severity: 'error',
      from: { path: '^dashboard/', pathNot: '^dashboard/vite\\.config\\.ts$' },
      to: { dependencyTypes: [...NPM, 'core'], pathNot: pkg('preact') },
    },
    {
      name: 'dashboard build config imports only vite, preact and node:url',
      severity: 'error',
      from: { path: '^dashboard/vite\\.config\\.ts$' },
      to: { dependencyTypes: [...NPM, 'core'], pathNot: [pkg('preact', 'vite'), '^(node:)?url$'] },
    },
    {
      name: 'only dashboard/ imports dashboard/',
      severity: 'error',
      from: { pathNot: '^dashboard/' },
      to: { path: '^dashboard/' },
    },
    {
      name: 'scripts import only src/config and src/core',
      severity: 'error',
      from: { path: '^scripts/' },
      to: { path: '^(src/(?!config/|core/)|test/|bench/|dashboard/)' },
    },
    {
      name: 'bench imports src, never tests or the dashboard',
      comment: 'One exception: the seeded PRNG in test/helpers/random.ts, shared with the fuzz suite.',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^(test|scripts|dashboard)/', pathNot: '^test/helpers/random\\.ts$' },
    },
    {
      name: 'test/helpers imports no suite',
      comment: 'ARCHITECTURE.md: suites import test/helpers and src/; helpers import src/ only.',
      severity: 'error',
      from: { path: '^test/helpers/' },
      to: { path: '^(test/(?!helpers/)|bench/|scripts/)' },
    },
    {
      name: 'no file imports a test file',
      severity: 'error',
      from: {},
      to: { path: TEST_FILE },
    },
    {
      name: 'no circular imports at run time',
      comment:
        'A cycle through type-only imports is erased at compile time (DeliveryContext is such a hub); ' +
        'any cycle a running program would meet is an error.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'every import resolves',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'every package imported is in package.json',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are kept in the graph (marked type-only), so the dashboard rule sees them.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.d.ts'],
    },
    exclude: { path: ['^test/fixtures/', '^bench/\\.build/', '^bench/results/', '^dist/'] },
  },
};
