/**
 * Generates docs/config.md (from the config descriptors) and docs/errors.md (from the error
 * catalogue). `npm run docs` writes them; test/docs.test.ts fails when the committed files drift.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { descriptors } from '../src/config/index.js';
import { errorCatalogue } from '../src/core/errors.js';

export function configMarkdown(): string {
  const rows = descriptors.map(
    (d) => `| <a id="${d.env}"></a>\`${d.env}\` | ${d.format} | ${d.defaultText} | ${d.description} |`,
  );
  return [
    '# Configuration',
    '',
    'Generated from `src/config/index.ts` by `npm run docs`; do not edit by hand.',
    'Every setting is an environment variable; `src/config/` is the only code that reads them.',
    '',
    '| variable | format | default | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

export function errorsMarkdown(): string {
  const rows = Object.entries(errorCatalogue).map(
    ([name, e]) =>
      `| ${e.code} | ${e.status} | \`${name}\` | ${e.prefixed ? `ERROR ${e.code}: ` : ''}${e.message} | ${e.source} |`,
  );
  return [
    '# Errors',
    '',
    'Generated from `src/core/errors.ts` by `npm run docs`; do not edit by hand.',
    'Every API failure is `{"result": null, "success": false, "errors": [{"code", "message"}], "messages": []}`',
    'with the HTTP status below. Images codes (5xxx) carry the `ERROR <code>: ` prefix in `message`, as',
    'Cloudflare does; a route may replace the text after the prefix with a more precise sentence.',
    '',
    '| code | HTTP | name | message | source |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL('../docs/config.md', import.meta.url), configMarkdown());
  writeFileSync(new URL('../docs/errors.md', import.meta.url), errorsMarkdown());
  process.stdout.write('wrote docs/config.md and docs/errors.md\n');
}
