/** The build step that makes the PGlite template (see pglite_template.ts): `node dist/store/make_template.js`. */
import { ensureTemplate, TEMPLATE_FILE } from './pglite_template.js';

const t0 = Date.now();
if (await ensureTemplate()) process.stdout.write(`pglite template: ${TEMPLATE_FILE} (${Date.now() - t0} ms)\n`);
