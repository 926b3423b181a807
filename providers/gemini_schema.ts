// Gemini accepts only an OpenAPI-3 subset of JSON Schema for function
// parameters and rejects the whole request on any other keyword
// (`additionalProperties`, `$schema`, `default`, `$ref`, `examples`, ...).
// Tool schemas written for OpenAI or by MCP servers use those freely, so this
// rewrites a schema into the subset: unknown keywords are dropped, local $refs
// are inlined, `type: [T, "null"]` and nullable anyOf become `nullable`,
// `const` becomes a one-value enum and enums become strings.

import type { JsonSchema } from './types.js';

type Schema = { [key: string]: unknown };

const KEPT = new Set(['type', 'format', 'description', 'nullable', 'enum', 'items', 'properties', 'required', 'minItems', 'maxItems', 'minimum', 'maximum']);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object']);
const STRING_FORMATS = new Set(['enum', 'date-time']);
const NUMBER_FORMATS = new Set(['float', 'double', 'int32', 'int64']);
/** Deeper than this (or a $ref cycle) is cut to a bare object. */
const MAX_DEPTH = 24;

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns the cleaned parameters, or undefined when there are none to declare. */
export function cleanGeminiSchema(schema: JsonSchema): Schema | undefined {
  const cleaned = clean(schema, schema, 0);
  const properties = cleaned.properties;
  // Gemini rejects an OBJECT with no properties; a tool without parameters omits them.
  if (cleaned.type === 'object' && (!isObject(properties) || Object.keys(properties).length === 0)) return undefined;
  return cleaned;
}

function clean(input: unknown, root: JsonSchema, depth: number): Schema {
  if (!isObject(input) || depth > MAX_DEPTH) return { type: 'object' };
  const node = resolve(input, root);
  if (node !== input) return clean(node, root, depth + 1);

  const variant = singleVariant(node);
  if (variant) {
    const inner = clean(variant.schema, root, depth + 1);
    if (typeof node.description === 'string' && inner.description === undefined) inner.description = node.description;
    if (variant.nullable) inner.nullable = true;
    return inner;
  }

  const out: Schema = {};
  let type = node.type;
  if (Array.isArray(type)) {
    const real = type.filter((t) => t !== 'null');
    if (real.length !== type.length) out.nullable = true;
    type = real[0];
  }
  if (node.const !== undefined && node.enum === undefined) out.enum = [String(node.const)];
  if (typeof type === 'string' && TYPES.has(type)) out.type = type;

  for (const [key, value] of Object.entries(node)) {
    if (!KEPT.has(key) || key === 'type') continue;
    if (key === 'properties' && isObject(value)) {
      const properties: Schema = {};
      for (const [name, sub] of Object.entries(value)) properties[name] = clean(sub, root, depth + 1);
      out.properties = properties;
    } else if (key === 'items') {
      out.items = clean(Array.isArray(value) ? value[0] : value, root, depth + 1);
    } else if (key === 'enum' && Array.isArray(value)) {
      out.enum = value.filter((v) => v !== null).map(String);
    } else if (key === 'required' && Array.isArray(value)) {
      out.required = value.filter((v): v is string => typeof v === 'string');
    } else if (key === 'format') {
      if (typeof value === 'string' && keepFormat(out.type, value)) out.format = value;
    } else {
      out[key] = value;
    }
  }
  if (out.enum !== undefined) out.type = 'string';
  if (out.type === undefined) out.type = out.properties ? 'object' : 'string';
  if (Array.isArray(out.required)) {
    const names = isObject(out.properties) ? out.properties : {};
    out.required = (out.required as string[]).filter((name) => name in names);
    if ((out.required as string[]).length === 0) delete out.required;
  }
  return out;
}

function keepFormat(type: unknown, format: string): boolean {
  if (type === 'string') return STRING_FORMATS.has(format);
  if (type === 'number' || type === 'integer') return NUMBER_FORMATS.has(format);
  return false;
}

/** Follows one local `$ref` (`#/$defs/X` or `#/definitions/X`). */
function resolve(node: Schema, root: JsonSchema): Schema {
  const ref = node.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return node;
  let target: unknown = root;
  for (const segment of ref.slice(2).split('/')) {
    if (!isObject(target)) return { type: 'object' };
    target = target[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return isObject(target) ? target : { type: 'object' };
}

/** anyOf/oneOf of one real schema (plus maybe null) collapses to it. */
function singleVariant(node: Schema): { schema: unknown; nullable: boolean } | undefined {
  const list = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined;
  if (!list || node.type !== undefined) return undefined;
  const real = list.filter((s) => !(isObject(s) && s.type === 'null'));
  if (real.length === 0) return undefined;
  return { schema: real[0], nullable: real.length !== list.length };
}
