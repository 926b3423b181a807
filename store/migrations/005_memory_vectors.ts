import type { Migration } from './migration.js';

/**
 * Memory gets the id of the embedder that made each vector (vectors of different
 * models never meet in one search), an index for the scoped fallback scan, and
 * `troupe_memory_vectors(embedder, dims)`, which the owner calls at every start:
 *
 *   server has pgvector? ──no──► 'portable'   (real[] + bounded scan, as before)
 *        │ yes
 *   CREATE EXTENSION vector (once; refused ──► 'portable')
 *   ADD COLUMN vec vector GENERATED ALWAYS AS (embedding::vector) STORED (once)
 *   dims ≤ 2000? ──no──► 'pgvector-exact'  (exact <=> scan; HNSW stops at 2000)
 *        │ yes
 *   HNSW index on (vec::vector(dims)) WHERE embedder = <id>  ──► 'pgvector-hnsw'
 *
 * The index is partial per embedder because HNSW needs one fixed dimension and a
 * deployment may change models: each model's vectors get their own index. Doing
 * this at start rather than here lets a server that gains pgvector later use it.
 */
const sql = String.raw`
ALTER TABLE memory ADD COLUMN embedder text;
UPDATE memory SET embedder = 'hash:fnv1a:' || cardinality(embedding);
ALTER TABLE memory ALTER COLUMN embedder SET NOT NULL;
ALTER TABLE memory ADD CONSTRAINT memory_embedder_len CHECK (length(embedder) BETWEEN 1 AND 200);
DROP INDEX memory_recent;
CREATE INDEX memory_recent ON memory (tenant_id, embedder, namespace, created_at DESC);

CREATE FUNCTION troupe_memory_vectors(p_embedder text, p_dims integer) RETURNS text
  LANGUAGE plpgsql
  AS $fn$
DECLARE
  idx text;
BEGIN
  IF p_dims IS NULL OR p_dims < 1 OR p_dims > 16000 THEN
    RAISE EXCEPTION 'bad dimension %', p_dims USING ERRCODE = '22023';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
      RETURN 'portable';
    END IF;
    BEGIN
      CREATE EXTENSION IF NOT EXISTS vector;
    EXCEPTION WHEN insufficient_privilege OR feature_not_supported OR undefined_file THEN
      RETURN 'portable';
    END;
  END IF;
  -- Installed in a schema this connection does not search: stay portable.
  IF to_regtype('vector') IS NULL THEN
    RETURN 'portable';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_attribute
                 WHERE attrelid = 'memory'::regclass AND attname = 'vec' AND NOT attisdropped) THEN
    ALTER TABLE memory ADD COLUMN vec vector GENERATED ALWAYS AS (embedding::vector) STORED;
  END IF;
  IF p_dims > 2000 THEN
    RETURN 'pgvector-exact';
  END IF;
  idx := 'memory_hnsw_' || substr(md5(p_embedder || ':' || p_dims), 1, 16);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON memory USING hnsw ((vec::vector(%s)) vector_cosine_ops) WHERE embedder = %L',
                 idx, p_dims, p_embedder);
  RETURN 'pgvector-hnsw';
END
$fn$;
REVOKE ALL ON FUNCTION troupe_memory_vectors(text, integer) FROM PUBLIC;
`;

export const migration005: Migration = { version: 5, name: 'memory_vectors', sql };
