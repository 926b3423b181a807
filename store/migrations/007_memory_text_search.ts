import type { Migration } from './migration.js';

/**
 * The full-text side of memory search, as a function the app role calls.
 *
 * Under row-level security the planner may not evaluate a user's condition
 * before the policy's unless the condition is leakproof (it could leak rows of
 * other tenants through errors or side effects). `tsv @@ query` is not
 * leakproof, so as the app role the GIN index on `tsv` is never used and every
 * search reads the whole table: 0.2 s at 100k memories on PGlite, growing with
 * the table, for a query that matches a handful of rows.
 *
 * This function runs as the owner, where the index is usable, and filters by
 * `troupe_current_tenant()`, the same setting the `tenant_isolation` policy
 * reads, so it sees exactly the rows the policy would show: the caller cannot
 * name a tenant, and with no tenant set it finds nothing. Like
 * `troupe_find_api_key`, it is one narrow, read-only door: ids of matching
 * memories in the given namespaces, best first.
 */
const sql = String.raw`
CREATE FUNCTION troupe_memory_text_search(p_namespaces text[], p_query text, p_limit integer)
  RETURNS TABLE (id text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
  AS $fn$
    SELECT m.id FROM memory m, websearch_to_tsquery('english', p_query) query
    WHERE m.tenant_id = troupe_current_tenant() AND m.namespace = ANY(p_namespaces) AND m.tsv @@ query
    ORDER BY ts_rank_cd(m.tsv, query) DESC, m.created_at DESC
    LIMIT least(p_limit, 200)
  $fn$;
REVOKE ALL ON FUNCTION troupe_memory_text_search(text[], text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION troupe_memory_text_search(text[], text, integer) TO troupe_app;
`;

export const migration007: Migration = { version: 7, name: 'memory_text_search', sql };
