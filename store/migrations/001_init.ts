import type { Migration } from './migration.js';

/**
 * The first schema. Every tenant table carries `tenant_id` (defaulting to the
 * transaction's tenant setting), primary keys are (tenant_id, id) so references can
 * never cross tenants, and the DO block at the end turns on forced RLS everywhere.
 */
const sql = String.raw`
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'troupe_app') THEN
    CREATE ROLE troupe_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
  END IF;
END
$$;

-- Fail closed: unset and empty both read as NULL, and NULL = x is never true.
CREATE FUNCTION troupe_current_tenant() RETURNS text
  LANGUAGE sql STABLE
  AS $fn$ SELECT NULLIF(current_setting('troupe.tenant_id', true), '') $fn$;

CREATE TABLE tenants (
  id         text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$'),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  tenant_id  text NOT NULL DEFAULT troupe_current_tenant() REFERENCES tenants(id) ON DELETE CASCADE,
  id         text NOT NULL DEFAULT gen_random_uuid()::text,
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email      text CHECK (email IS NULL OR length(email) <= 320),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE api_keys (
  tenant_id    text NOT NULL DEFAULT troupe_current_tenant() REFERENCES tenants(id) ON DELETE CASCADE,
  id           text NOT NULL DEFAULT gen_random_uuid()::text,
  user_id      text,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  key_hash     text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  scopes       text[] NOT NULL DEFAULT '{}',
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  last_used_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE agents (
  tenant_id  text NOT NULL DEFAULT troupe_current_tenant() REFERENCES tenants(id) ON DELETE CASCADE,
  id         text NOT NULL DEFAULT gen_random_uuid()::text,
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  config     jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name)
);

CREATE TABLE sessions (
  tenant_id  text NOT NULL DEFAULT troupe_current_tenant() REFERENCES tenants(id) ON DELETE CASCADE,
  id         text NOT NULL DEFAULT gen_random_uuid()::text,
  key        text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  agent_id   text NOT NULL,
  user_id    text,
  title      text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, key)
);

CREATE TABLE messages (
  tenant_id  text NOT NULL DEFAULT troupe_current_tenant(),
  id         bigint GENERATED ALWAYS AS IDENTITY,
  session_id text NOT NULL,
  role       text NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
  content    text NOT NULL,
  meta       jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX messages_by_session ON messages (tenant_id, session_id, id);

CREATE TABLE runs (
  tenant_id     text NOT NULL DEFAULT troupe_current_tenant(),
  id            text NOT NULL DEFAULT gen_random_uuid()::text,
  session_id    text NOT NULL,
  agent_id      text NOT NULL,
  status        text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'aborted')),
  input_tokens  bigint NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
  output_tokens bigint NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
  cost_usd      numeric(14, 6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
  error         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX runs_by_session ON runs (tenant_id, session_id, created_at);

CREATE TABLE tool_calls (
  tenant_id   text NOT NULL DEFAULT troupe_current_tenant(),
  id          text NOT NULL DEFAULT gen_random_uuid()::text,
  run_id      text NOT NULL,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  args        jsonb NOT NULL DEFAULT '{}',
  status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
  result      jsonb,
  error       text,
  duration_ms integer CHECK (duration_ms IS NULL OR duration_ms >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, run_id) REFERENCES runs(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX tool_calls_by_run ON tool_calls (tenant_id, run_id, created_at);

-- No foreign key to tenants: auth failures are audited before any tenant is known.
CREATE TABLE audit_log (
  tenant_id text NOT NULL DEFAULT troupe_current_tenant(),
  seq       bigint NOT NULL CHECK (seq >= 1),
  at        timestamptz NOT NULL,
  actor     text NOT NULL,
  action    text NOT NULL,
  target    text,
  source_ip text,
  outcome   text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
  detail    jsonb,
  prev_hash text NOT NULL,
  hash      text NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);

CREATE FUNCTION troupe_audit_append_only() RETURNS trigger
  LANGUAGE plpgsql
  AS $fn$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = '42501';
END
$fn$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION troupe_audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION troupe_audit_append_only();

CREATE TABLE secrets (
  tenant_id   text NOT NULL DEFAULT troupe_current_tenant() REFERENCES tenants(id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.:-]{1,128}$'),
  ciphertext  text NOT NULL CHECK (length(ciphertext) BETWEEN 1 AND 65536),
  key_version integer NOT NULL CHECK (key_version >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

-- Portable vector column (real[]): see docs/data.md for why not pgvector here.
CREATE TABLE memory (
  tenant_id  text NOT NULL DEFAULT troupe_current_tenant() REFERENCES tenants(id) ON DELETE CASCADE,
  id         text NOT NULL DEFAULT gen_random_uuid()::text,
  namespace  text NOT NULL DEFAULT 'default' CHECK (length(namespace) BETWEEN 1 AND 200),
  content    text NOT NULL CHECK (length(content) BETWEEN 1 AND 32768),
  metadata   jsonb,
  embedding  real[] NOT NULL,
  tsv        tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX memory_fts ON memory USING gin (tsv);
CREATE INDEX memory_recent ON memory (tenant_id, namespace, created_at DESC);

-- API-key authentication happens before a tenant is known. This definer function is
-- the app role's only way across tenants, and it answers one exact hash at a time.
CREATE FUNCTION troupe_find_api_key(p_hash text)
  RETURNS TABLE (tenant_id text, id text, user_id text, name text, scopes text[], expires_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
  AS $fn$
    SELECT k.tenant_id, k.id, k.user_id, k.name, k.scopes, k.expires_at
    FROM api_keys k
    WHERE k.key_hash = p_hash AND k.revoked_at IS NULL AND k.expires_at > now()
  $fn$;
REVOKE ALL ON FUNCTION troupe_find_api_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION troupe_find_api_key(text) TO troupe_app;

DO $$
DECLARE
  t text;
  owner_is_super boolean;
BEGIN
  SELECT rolsuper INTO owner_is_super FROM pg_roles WHERE rolname = current_user;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO troupe_app', current_schema());
  IF NOT owner_is_super THEN
    -- A non-superuser owner needs membership to SET ROLE and its own pass through FORCE RLS.
    EXECUTE format('GRANT troupe_app TO %I', current_user);
  END IF;

  ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
  ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON tenants TO troupe_app
    USING (id = troupe_current_tenant());
  GRANT SELECT ON tenants TO troupe_app;

  FOREACH t IN ARRAY ARRAY['users', 'api_keys', 'agents', 'sessions', 'messages', 'runs',
                           'tool_calls', 'audit_log', 'secrets', 'memory'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO troupe_app '
                   'USING (tenant_id = troupe_current_tenant()) '
                   'WITH CHECK (tenant_id = troupe_current_tenant())', t);
    IF t = 'audit_log' THEN
      EXECUTE format('GRANT SELECT, INSERT ON %I TO troupe_app', t);
    ELSE
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO troupe_app', t);
    END IF;
  END LOOP;

  IF NOT owner_is_super THEN
    FOREACH t IN ARRAY ARRAY['tenants', 'users', 'api_keys', 'agents', 'sessions', 'messages', 'runs',
                             'tool_calls', 'audit_log', 'secrets', 'memory'] LOOP
      EXECUTE format('CREATE POLICY owner_all ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
    END LOOP;
  END IF;
END
$$;
`;

export const migration001: Migration = { version: 1, name: 'init', sql };
