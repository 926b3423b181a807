/**
 * A small JSON Schema validator for the subset tool parameters use: type
 * (one or a list), properties, required, additionalProperties (false or a
 * schema), items, enum, const, minimum/maximum, exclusiveMinimum/Maximum,
 * minLength/maxLength, minItems/maxItems, anyOf/oneOf (first match wins is
 * enough for arguments). Other keywords (format, $ref, description, default)
 * are ignored: a server that relies on them still validates on its side.
 *
 * Why not a library: the subset is ~150 lines, has no code generation (ajv
 * compiles schemas with `new Function`, which untrusted MCP schemas should not
 * reach), and reports the JSON path we put in INVALID_REQUEST errors.
 */

export type JsonSchema = { readonly [key: string]: unknown };

export interface SchemaIssue {
  /** `$` for the root, then `.name` and `[index]`. */
  path: string;
  message: string;
}

export interface ValidateOptions {
  /** Stop after this many issues (default 10). */
  maxIssues?: number;
  /** Deeper values are refused (default 32). */
  maxDepth?: number;
}

const TYPE_NAMES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  if (type === 'integer') return Number.isInteger(value);
  if (type === 'number') return typeof value === 'number' && Number.isFinite(value);
  if (type === 'object') return typeOf(value) === 'object';
  return typeOf(value) === type;
}

function isSchema(value: unknown): value is JsonSchema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function keyPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

class Walker {
  readonly issues: SchemaIssue[] = [];

  constructor(private readonly maxIssues: number, private readonly maxDepth: number) {}

  get full(): boolean {
    return this.issues.length >= this.maxIssues;
  }

  add(path: string, message: string): void {
    if (!this.full) this.issues.push({ path, message });
  }

  check(schema: JsonSchema, value: unknown, path: string, depth: number): void {
    if (this.full) return;
    if (depth > this.maxDepth) return this.add(path, `nested deeper than ${this.maxDepth} levels`);
    if (!this.checkType(schema, value, path)) return;
    if (Array.isArray(schema.enum) && !schema.enum.some((e) => sameValue(e, value))) {
      return this.add(path, `must be one of ${show(schema.enum)}`);
    }
    if ('const' in schema && !sameValue(schema.const, value)) return this.add(path, `must be ${show(schema.const)}`);
    if (!this.checkAlternatives(schema, value, path, depth)) return;
    if (typeof value === 'string') this.checkString(schema, value, path);
    else if (typeof value === 'number') this.checkNumber(schema, value, path);
    else if (Array.isArray(value)) this.checkArray(schema, value, path, depth);
    else if (value !== null && typeof value === 'object') this.checkObject(schema, value as Record<string, unknown>, path, depth);
  }

  private checkType(schema: JsonSchema, value: unknown, path: string): boolean {
    const declared = schema.type;
    if (declared === undefined) return true;
    const types = (Array.isArray(declared) ? declared : [declared]).filter((t): t is string => typeof t === 'string' && TYPE_NAMES.has(t));
    if (types.length === 0 || types.some((t) => matchesType(value, t))) return true;
    this.add(path, `must be ${types.join(' or ')}, got ${typeOf(value)}`);
    return false;
  }

  private checkAlternatives(schema: JsonSchema, value: unknown, path: string, depth: number): boolean {
    const options = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : null;
    if (options === null) return true;
    const fits = options.some((option) => {
      if (!isSchema(option)) return true;
      const probe = new Walker(1, this.maxDepth);
      probe.check(option, value, path, depth + 1);
      return probe.issues.length === 0;
    });
    if (!fits) this.add(path, 'matches none of the allowed forms');
    return fits;
  }

  private checkString(schema: JsonSchema, value: string, path: string): void {
    // Length in code points, as JSON Schema defines it.
    const length = [...value].length;
    if (typeof schema.minLength === 'number' && length < schema.minLength) this.add(path, `must be at least ${schema.minLength} characters`);
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) this.add(path, `must be at most ${schema.maxLength} characters`);
  }

  private checkNumber(schema: JsonSchema, value: number, path: string): void {
    if (typeof schema.minimum === 'number' && value < schema.minimum) this.add(path, `must be >= ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) this.add(path, `must be <= ${schema.maximum}`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) this.add(path, `must be > ${schema.exclusiveMinimum}`);
    if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) this.add(path, `must be < ${schema.exclusiveMaximum}`);
  }

  private checkArray(schema: JsonSchema, value: unknown[], path: string, depth: number): void {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) this.add(path, `must have at least ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) return this.add(path, `must have at most ${schema.maxItems} items`);
    if (!isSchema(schema.items)) return;
    for (let i = 0; i < value.length && !this.full; i++) this.check(schema.items, value[i], `${path}[${i}]`, depth + 1);
  }

  private checkObject(schema: JsonSchema, value: Record<string, unknown>, path: string, depth: number): void {
    const properties = isSchema(schema.properties) ? schema.properties : {};
    if (Array.isArray(schema.required)) {
      for (const key of schema.required) {
        if (typeof key === 'string' && !Object.hasOwn(value, key)) this.add(keyPath(path, key), 'is required');
      }
    }
    for (const [key, child] of Object.entries(value)) {
      if (this.full) return;
      const sub = Object.hasOwn(properties, key) ? properties[key] : undefined;
      if (isSchema(sub)) this.check(sub, child, keyPath(path, key), depth + 1);
      else if (schema.additionalProperties === false) this.add(keyPath(path, key), 'is not an allowed property');
      else if (isSchema(schema.additionalProperties)) this.check(schema.additionalProperties, child, keyPath(path, key), depth + 1);
    }
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Returns the problems found (empty when `value` fits `schema`). */
export function validate(schema: JsonSchema, value: unknown, options: ValidateOptions = {}): SchemaIssue[] {
  const walker = new Walker(options.maxIssues ?? 10, options.maxDepth ?? 32);
  walker.check(schema, value, '$', 0);
  return walker.issues;
}
