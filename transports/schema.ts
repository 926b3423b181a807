/**
 * Tiny hand-written schemas for request params, checked at the edge so the
 * backend only ever sees well-typed values. A schema lists fields; unknown
 * fields are ignored (forward compatible clients), known ones are checked for
 * type, presence and size, and the first failure names its field.
 */
import { invalidField } from './errors.js';

export type FieldSpec =
  | { kind: 'string'; required?: boolean; minLength?: number; maxLength: number }
  | { kind: 'integer'; required?: boolean; min: number; max: number }
  | { kind: 'boolean'; required?: boolean };

export type Schema = Readonly<Record<string, FieldSpec>>;

type ValueOf<F extends FieldSpec> = F extends { kind: 'string' } ? string : F extends { kind: 'integer' } ? number : boolean;
type RequiredKeys<S extends Schema> = { [K in keyof S]: S[K] extends { required: true } ? K : never }[keyof S];
type OptionalKeys<S extends Schema> = Exclude<keyof S, RequiredKeys<S>>;

/** The typed value a schema accepts. */
export type Infer<S extends Schema> = { [K in RequiredKeys<S>]: ValueOf<S[K]> } & { [K in OptionalKeys<S>]?: ValueOf<S[K]> };

function checkField(name: string, spec: FieldSpec, value: unknown): void {
  switch (spec.kind) {
    case 'string': {
      if (typeof value !== 'string') throw invalidField(name, `"${name}" must be a string`, 'field_type');
      const min = spec.minLength ?? 1;
      if (value.length < min) throw invalidField(name, `"${name}" must not be empty`, 'field_empty');
      if (value.length > spec.maxLength) {
        throw invalidField(name, `"${name}" must be at most ${spec.maxLength} characters`, 'field_too_long');
      }
      return;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw invalidField(name, `"${name}" must be an integer`, 'field_type');
      }
      if (value < spec.min || value > spec.max) {
        throw invalidField(name, `"${name}" must be between ${spec.min} and ${spec.max}`, 'field_range');
      }
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw invalidField(name, `"${name}" must be a boolean`, 'field_type');
  }
}

/** Returns a fresh object holding only the schema's fields; throws INVALID_REQUEST. */
export function validate<S extends Schema>(schema: S, params: Record<string, unknown>): Infer<S> {
  const out: Record<string, unknown> = {};
  // for-in, not Object.keys: no array per call (schemas are plain literals, checked once per frame).
  for (const name in schema) {
    const spec = schema[name];
    const value = Object.hasOwn(params, name) ? params[name] : undefined;
    if (value === undefined || value === null) {
      if (spec.required === true) throw invalidField(name, `"${name}" is required`, 'field_required');
      continue;
    }
    checkField(name, spec, value);
    out[name] = value;
  }
  return out as Infer<S>;
}
