import type { QueryResult, Row } from './db.js';

const cache = new Map<string, string>();

function camel(key: string): string {
  let out = cache.get(key);
  if (out === undefined) {
    out = key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
    cache.set(key, out);
  }
  return out;
}

/**
 * A row of our own SELECT/RETURNING as its domain object: snake_case columns become
 * camelCase fields. Numbers are cast in SQL (::float8, ::text) so both drivers agree,
 * which is what lets one mapper serve every table.
 */
export function camelRow<T>(row: Row): T {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(row)) out[camel(key)] = row[key];
  return out as T;
}

export function firstOrNull<T>(res: QueryResult): T | null {
  return res.rows.length === 0 ? null : camelRow<T>(res.rows[0]);
}
