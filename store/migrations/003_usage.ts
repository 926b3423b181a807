import type { Migration } from './migration.js';

/**
 * Usage: one row per finished run (chat turn) with its tokens, model, provider,
 * latency, outcome and cost, attributed to tenant, user, API key and agent.
 * Written in batches through the persistence's write-behind path (the usage
 * recorder, gateway/usage_recorder.ts); read by GET /v1/usage and `troupe usage`. A tenant table under the same forced RLS
 * as the rest. `priced` is false when the model had no price (cost 0, flagged).
 */
const sql = String.raw`
CREATE TABLE usage_events (
  tenant_id     text NOT NULL DEFAULT troupe_current_tenant() REFERENCES tenants(id) ON DELETE CASCADE,
  id            bigint GENERATED ALWAYS AS IDENTITY,
  at            timestamptz NOT NULL DEFAULT now(),
  run_id        text NOT NULL CHECK (length(run_id) BETWEEN 1 AND 128),
  user_id       text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 256),
  api_key_id    text CHECK (api_key_id IS NULL OR length(api_key_id) BETWEEN 1 AND 128),
  agent_id      text NOT NULL CHECK (length(agent_id) BETWEEN 1 AND 128),
  provider      text NOT NULL CHECK (length(provider) BETWEEN 1 AND 128),
  model         text NOT NULL CHECK (length(model) BETWEEN 1 AND 256),
  input_tokens  bigint NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
  output_tokens bigint NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
  cached_tokens bigint NOT NULL DEFAULT 0 CHECK (cached_tokens >= 0),
  cost_usd      numeric(16, 8) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
  priced        boolean NOT NULL DEFAULT true,
  latency_ms    integer NOT NULL DEFAULT 0 CHECK (latency_ms >= 0),
  outcome       text NOT NULL CHECK (outcome IN ('ok', 'error', 'aborted')),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX usage_events_by_time ON usage_events (tenant_id, at);

DO $$
DECLARE
  owner_is_super boolean;
BEGIN
  SELECT rolsuper INTO owner_is_super FROM pg_roles WHERE rolname = current_user;
  ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY;
  ALTER TABLE usage_events FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON usage_events TO troupe_app
    USING (tenant_id = troupe_current_tenant()) WITH CHECK (tenant_id = troupe_current_tenant());
  GRANT SELECT, INSERT ON usage_events TO troupe_app;
  IF NOT owner_is_super THEN
    EXECUTE format('CREATE POLICY owner_all ON usage_events TO %I USING (true) WITH CHECK (true)', current_user);
  END IF;
END
$$;
`;

export const migration003: Migration = { version: 3, name: 'usage', sql };
