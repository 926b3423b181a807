/** JSON with object keys sorted at every level, so equal values hash equally. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value, 0));
}

const MAX_DEPTH = 64;

function sortKeys(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => sortKeys(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key], depth + 1);
  return out;
}
