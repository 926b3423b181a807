import { StoreError } from './errors.js';

/** Boundary checks shared by every repository: bad input fails with INVALID_REQUEST. */

const TENANT_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

export function tenantId(value: unknown): string {
  if (typeof value !== 'string' || !TENANT_ID.test(value)) {
    throw new StoreError('INVALID_REQUEST', 'tenant id must be 1-64 characters of [A-Za-z0-9_.-]');
  }
  return value;
}

export function text(field: string, value: unknown, max = 200): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new StoreError('INVALID_REQUEST', `${field} must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

export function optionalText(field: string, value: unknown, max = 200): string | null {
  return value === undefined || value === null ? null : text(field, value, max);
}

export function nonNegativeInt(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new StoreError('INVALID_REQUEST', `${field} must be a non-negative integer`);
  }
  return value;
}

export function nonNegativeNumber(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new StoreError('INVALID_REQUEST', `${field} must be a non-negative number`);
  }
  return value;
}

export function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new StoreError('INVALID_REQUEST', `${field} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function date(field: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new StoreError('INVALID_REQUEST', `${field} must be a valid Date`);
  }
  return value;
}

/** A page size clamped to [1, max]; absent means `fallback`. */
export function pageLimit(value: unknown, fallback = 50, max = 500): number {
  if (value === undefined) return fallback;
  const n = nonNegativeInt('limit', value);
  if (n === 0) throw new StoreError('INVALID_REQUEST', 'limit must be at least 1');
  return Math.min(n, max);
}

/** JSON objects stored in jsonb columns: bounded so one row cannot grow without limit. */
export function jsonObject(field: string, value: unknown, maxBytes = 256 * 1024): Record<string, unknown> {
  jsonObjectText(field, value, maxBytes);
  return value as Record<string, unknown>;
}

/**
 * The same check, returning the JSON text it measured (for a jsonb parameter, so it is not serialised twice);
 * `serialize` writes that text (the audit log's canonical JSON, which it also hashes).
 */
export function jsonObjectText(field: string, value: unknown, maxBytes = 256 * 1024, serialize: (v: object) => string = JSON.stringify): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreError('INVALID_REQUEST', `${field} must be a JSON object`);
  }
  const json = serialize(value);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: measure only when the text could be over the limit.
  const size = json.length * 3 <= maxBytes ? json.length : Buffer.byteLength(json);
  if (size > maxBytes) {
    throw new StoreError('INVALID_REQUEST', `${field} is ${size} bytes; the limit is ${maxBytes}`);
  }
  return json;
}

export function notFound(what: string, id: string): StoreError {
  return new StoreError('NOT_FOUND', `${what} ${id} not found`);
}
