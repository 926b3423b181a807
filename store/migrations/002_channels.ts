import type { Migration } from './migration.js';

/**
 * Chat-channel pairings: a platform user who asked for access to a channel
 * (`pending`, with the one-time code the bot sent them) and whom an operator
 * approved (`troupe channels pair`). A tenant table under the same forced RLS
 * as the rest; one row per (tenant, channel, platform user).
 */
const sql = String.raw`
CREATE TABLE channel_pairings (
  tenant_id   text NOT NULL DEFAULT troupe_current_tenant() REFERENCES tenants(id) ON DELETE CASCADE,
  channel_id  text NOT NULL CHECK (channel_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  user_id     text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 256),
  user_name   text CHECK (user_name IS NULL OR length(user_name) <= 256),
  code        text NOT NULL CHECK (code ~ '^[A-Z0-9]{4,16}$'),
  status      text NOT NULL CHECK (status IN ('pending', 'approved')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  approved_at timestamptz,
  PRIMARY KEY (tenant_id, channel_id, user_id)
);
CREATE INDEX channel_pairings_by_code ON channel_pairings (tenant_id, channel_id, code);

DO $$
DECLARE
  owner_is_super boolean;
BEGIN
  SELECT rolsuper INTO owner_is_super FROM pg_roles WHERE rolname = current_user;
  ALTER TABLE channel_pairings ENABLE ROW LEVEL SECURITY;
  ALTER TABLE channel_pairings FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON channel_pairings TO troupe_app
    USING (tenant_id = troupe_current_tenant()) WITH CHECK (tenant_id = troupe_current_tenant());
  GRANT SELECT, INSERT, UPDATE, DELETE ON channel_pairings TO troupe_app;
  IF NOT owner_is_super THEN
    EXECUTE format('CREATE POLICY owner_all ON channel_pairings TO %I USING (true) WITH CHECK (true)', current_user);
  END IF;
END
$$;
`;

export const migration002: Migration = { version: 2, name: 'channels', sql };
