import type { Queryable } from '../db.js';
import { translateDbError } from '../errors.js';
import { camelRow, firstOrNull } from '../rows.js';
import { jsonObject, notFound, pageLimit, text } from '../validate.js';

export interface Agent {
  tenantId: string;
  id: string;
  name: string;
  /** Opaque agent configuration (model, prompt, tools...), owned by actors/. */
  config: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export interface AgentsRepo {
  /** Creates the agent, or replaces the config of the one with the same name. */
  upsert(input: { name: string; config: Record<string, unknown> }): Promise<Agent>;
  get(id: string): Promise<Agent | null>;
  getByName(name: string): Promise<Agent | null>;
  list(opts?: { limit?: number }): Promise<Agent[]>;
  remove(id: string): Promise<void>;
  /** Deletes the agent with this name; NOT_FOUND when there is none. */
  removeByName(name: string): Promise<Agent>;
  /**
   * Gives the tenant these agents once: the first call inserts the ones it lacks
   * (by name) and remembers it; later calls do nothing, so an agent deleted
   * since is not brought back. True when this call seeded.
   */
  seedOnce(agents: readonly { name: string; config: Record<string, unknown> }[]): Promise<boolean>;
}

const COLUMNS = 'tenant_id, id, name, config, created_at, updated_at';

const toAgent = (r: Record<string, unknown>): Agent => camelRow<Agent>(r);

export class SqlAgentsRepo implements AgentsRepo {
  constructor(private readonly q: Queryable) {}

  async upsert(input: { name: string; config: Record<string, unknown> }): Promise<Agent> {
    const res = await this.q
      .query(
        `INSERT INTO agents (name, config) VALUES ($1, $2)
         ON CONFLICT (tenant_id, name) DO UPDATE SET config = EXCLUDED.config, updated_at = now()
         RETURNING ${COLUMNS}`,
        [text('name', input.name), JSON.stringify(jsonObject('config', input.config))],
      )
      .catch(translateDbError);
    return toAgent(res.rows[0]);
  }

  async get(id: string): Promise<Agent | null> {
    const res = await this.q.query(`SELECT ${COLUMNS} FROM agents WHERE id = $1`, [text('id', id)]);
    return firstOrNull<Agent>(res);
  }

  async getByName(name: string): Promise<Agent | null> {
    const res = await this.q.query(`SELECT ${COLUMNS} FROM agents WHERE name = $1`, [text('name', name)]);
    return firstOrNull<Agent>(res);
  }

  async list(opts: { limit?: number } = {}): Promise<Agent[]> {
    const res = await this.q.query(`SELECT ${COLUMNS} FROM agents ORDER BY name LIMIT $1`, [pageLimit(opts.limit, 50, 10_000)]);
    return res.rows.map(toAgent);
  }

  async removeByName(name: string): Promise<Agent> {
    const res = await this.q.query(`DELETE FROM agents WHERE name = $1 RETURNING ${COLUMNS}`, [text('name', name)]);
    if (res.rowCount === 0) throw notFound('agent', name);
    return toAgent(res.rows[0]);
  }

  async seedOnce(agents: readonly { name: string; config: Record<string, unknown> }[]): Promise<boolean> {
    const marked = await this.q.query("INSERT INTO config_seeds (kind) VALUES ('agents') ON CONFLICT DO NOTHING RETURNING kind");
    if (marked.rowCount === 0) return false;
    for (const a of agents) {
      await this.q
        .query('INSERT INTO agents (name, config) VALUES ($1, $2) ON CONFLICT (tenant_id, name) DO NOTHING', [
          text('name', a.name), JSON.stringify(jsonObject('config', a.config)),
        ])
        .catch(translateDbError);
    }
    return true;
  }

  async remove(id: string): Promise<void> {
    const res = await this.q.query('DELETE FROM agents WHERE id = $1', [text('id', id)]);
    if (res.rowCount === 0) throw notFound('agent', id);
  }
}
