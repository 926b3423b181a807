import type { Migration } from './migration.js';

/**
 * What the admin API manages per tenant besides agents (001): the providers
 * agents' chains name, and MCP servers. Configuration is jsonb without
 * credentials; a provider's API key lives in `secrets`, sealed, under the name
 * in `secret_name`. `config_seeds` remembers that a tenant was given the config
 * file's agents once, so an agent an admin deleted is not seeded back at the
 * next start. Same forced RLS as every tenant table.
 */
const sql = String.raw`
CREATE TABLE providers (
  tenant_id   text NOT NULL DEFAULT troupe_current_tenant() REFERENCES tenants(id) ON DELETE CASCADE,
  id          text NOT NULL CHECK (length(id) BETWEEN 1 AND 128),
  spec        jsonb NOT NULL,
  secret_name text CHECK (secret_name IS NULL OR length(secret_name) BETWEEN 1 AND 128),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE mcp_servers (
  tenant_id  text NOT NULL DEFAULT troupe_current_tenant() REFERENCES tenants(id) ON DELETE CASCADE,
  id         text NOT NULL CHECK (length(id) BETWEEN 1 AND 128),
  config     jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE config_seeds (
  tenant_id  text NOT NULL DEFAULT troupe_current_tenant() REFERENCES tenants(id) ON DELETE CASCADE,
  kind       text NOT NULL CHECK (kind IN ('agents')),
  seeded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, kind)
);

DO $$
DECLARE
  t text;
  owner_is_super boolean;
BEGIN
  SELECT rolsuper INTO owner_is_super FROM pg_roles WHERE rolname = current_user;
  FOREACH t IN ARRAY ARRAY['providers', 'mcp_servers', 'config_seeds'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO troupe_app '
                   'USING (tenant_id = troupe_current_tenant()) '
                   'WITH CHECK (tenant_id = troupe_current_tenant())', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO troupe_app', t);
    IF NOT owner_is_super THEN
      EXECUTE format('CREATE POLICY owner_all ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
    END IF;
  END LOOP;
END
$$;
`;

export const migration008: Migration = { version: 8, name: 'admin_config', sql };
