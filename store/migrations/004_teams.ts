import type { Migration } from './migration.js';

/**
 * Agent teams: team runs and their task board. Both are tenant tables under the
 * same forced RLS as the rest (tenant_id first in every key), and every task
 * carries its team id, so a query for one team can never see another's board.
 *
 * A claim is a lease: claimed_by + claim_token + lease_expires_at, set by one
 * conditional UPDATE. A completion names the token it was given, so a member
 * whose lease expired (and whose task was claimed again) cannot finish it twice.
 */
const sql = String.raw`
CREATE TABLE team_runs (
  tenant_id    text NOT NULL DEFAULT troupe_current_tenant() REFERENCES tenants(id) ON DELETE CASCADE,
  id           text NOT NULL DEFAULT gen_random_uuid()::text,
  team_id      text NOT NULL CHECK (length(team_id) BETWEEN 1 AND 128),
  lead_agent   text NOT NULL CHECK (length(lead_agent) BETWEEN 1 AND 128),
  lead_session text NOT NULL CHECK (length(lead_session) BETWEEN 1 AND 256),
  status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
  max_tasks    integer NOT NULL CHECK (max_tasks >= 1),
  max_depth    integer NOT NULL CHECK (max_depth >= 1),
  token_budget bigint NOT NULL CHECK (token_budget >= 1),
  tasks_created integer NOT NULL DEFAULT 0 CHECK (tasks_created >= 0),
  tokens_used  bigint NOT NULL DEFAULT 0 CHECK (tokens_used >= 0),
  deadline_at  timestamptz NOT NULL,
  error        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX team_runs_live ON team_runs (tenant_id, team_id, lead_session) WHERE status = 'running';

CREATE TABLE team_tasks (
  tenant_id        text NOT NULL DEFAULT troupe_current_tenant(),
  id               text NOT NULL DEFAULT gen_random_uuid()::text,
  team_id          text NOT NULL CHECK (length(team_id) BETWEEN 1 AND 128),
  run_id           text NOT NULL,
  seq              integer NOT NULL CHECK (seq >= 1),
  title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
  input            text NOT NULL CHECK (length(input) <= 65536),
  assignee         text CHECK (assignee IS NULL OR length(assignee) BETWEEN 1 AND 128),
  blocked_by       text[] NOT NULL DEFAULT '{}',
  depth            integer NOT NULL DEFAULT 1 CHECK (depth >= 1),
  chain            text[] NOT NULL DEFAULT '{}',
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'claimed', 'running', 'in_review', 'done', 'failed', 'cancelled')),
  review           text NOT NULL DEFAULT 'none' CHECK (review IN ('none', 'agent', 'schema')),
  result_schema    jsonb,
  max_rounds       integer NOT NULL DEFAULT 2 CHECK (max_rounds BETWEEN 1 AND 20),
  round            integer NOT NULL DEFAULT 0 CHECK (round >= 0),
  max_attempts     integer NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 100),
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  claimed_by       text,
  claim_token      text,
  lease_expires_at timestamptz,
  result           text CHECK (result IS NULL OR length(result) <= 262144),
  error            text,
  feedback         text,
  reviews          jsonb NOT NULL DEFAULT '[]',
  tokens           bigint NOT NULL DEFAULT 0 CHECK (tokens >= 0),
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, run_id, seq),
  FOREIGN KEY (tenant_id, run_id) REFERENCES team_runs(tenant_id, id) ON DELETE CASCADE,
  -- A claim is all three fields or none of them.
  CHECK ((claimed_by IS NULL) = (claim_token IS NULL) AND (claim_token IS NULL) = (lease_expires_at IS NULL))
);
CREATE INDEX team_tasks_board ON team_tasks (tenant_id, team_id, status, created_at);
CREATE INDEX team_tasks_by_run ON team_tasks (tenant_id, run_id, seq);
CREATE INDEX team_tasks_leases ON team_tasks (tenant_id, lease_expires_at) WHERE claim_token IS NOT NULL;

DO $$
DECLARE
  t text;
  owner_is_super boolean;
BEGIN
  SELECT rolsuper INTO owner_is_super FROM pg_roles WHERE rolname = current_user;
  FOREACH t IN ARRAY ARRAY['team_runs', 'team_tasks'] LOOP
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

export const migration004: Migration = { version: 4, name: 'teams', sql };
