// MCP tool output schemas are validated without generating code: a gateway run
// with --disallow-code-generation-from-strings still lists server-everything's
// tools and calls its tool that has an output schema (ajv, the SDK's default
// validator, compiles schemas with `new Function` and fails there).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const fixture = fileURLToPath(new URL('./fixtures/mcp_no_codegen.js', import.meta.url));

t.test('a tool with an output schema works where code generation is refused', async (t) => {
  const run = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', fixture], { encoding: 'utf8', timeout: 60_000 });
  t.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { evalRefused: boolean; tools: number; structured?: { data?: unknown }; error?: string };
  t.ok(out.evalRefused, 'the child really refuses code generation');
  t.equal(out.error, undefined, 'no error');
  t.ok(out.tools > 5, `server-everything listed ${out.tools} tools`);
  t.match(JSON.stringify(out.structured), /temperature/, 'the structured result came back, validated against its output schema');
});
