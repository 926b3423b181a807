// cleanGeminiSchema on its own: the JSON Schema features tools commonly use
// and Gemini rejects.

import t from 'tap';
import { cleanGeminiSchema } from '../../providers/index.js';

t.test('gemini schema: a nullable anyOf collapses to its real variant marked nullable', async (t) => {
  const out = cleanGeminiSchema({
    type: 'object',
    properties: { when: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }], description: 'When' } },
  });
  t.same(out, { type: 'object', properties: { when: { type: 'string', format: 'date-time', description: 'When', nullable: true } } });
});

t.test('gemini schema: const becomes a one-value string enum and enums become strings', async (t) => {
  const out = cleanGeminiSchema({
    type: 'object',
    properties: { mode: { const: 'fast' }, level: { type: 'integer', enum: [1, 2, 3] } },
  });
  t.same(out, { type: 'object', properties: { mode: { enum: ['fast'], type: 'string' }, level: { type: 'string', enum: ['1', '2', '3'] } } });
});

t.test('gemini schema: formats Gemini does not know are dropped, known ones kept', async (t) => {
  const out = cleanGeminiSchema({
    type: 'object',
    properties: { site: { type: 'string', format: 'uri' }, n: { type: 'integer', format: 'int64' } },
  });
  t.same(out, { type: 'object', properties: { site: { type: 'string' }, n: { type: 'integer', format: 'int64' } } });
});

t.test('gemini schema: a recursive $ref is cut at a bounded depth instead of looping', async (t) => {
  const out = cleanGeminiSchema({
    type: 'object',
    properties: { root: { $ref: '#/$defs/node' } },
    $defs: { node: { type: 'object', properties: { child: { $ref: '#/$defs/node' } } } },
  });
  let depth = 0;
  let node: unknown = out;
  while (typeof node === 'object' && node !== null && 'properties' in node) {
    const props = (node as { properties: Record<string, unknown> }).properties;
    node = props.root ?? props.child;
    depth++;
  }
  t.ok(depth > 2 && depth < 50, `expanded ${depth} levels, then stopped`);
});

t.test('gemini schema: the input schema is not modified', async (t) => {
  const input = { type: 'object', additionalProperties: false, properties: { a: { type: 'string', default: 'x' } } };
  const copy = structuredClone(input);
  cleanGeminiSchema(input);
  t.same(input, copy);
});
