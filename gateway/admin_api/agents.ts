/**
 * /admin/v1/agents (`admin`): the tenant's agents, in the store. A tenant
 * starts with the config file's agents (seeded once, the first time any of
 * its agents are read); after that the store is the source of truth. A change
 * is audited with a diff and reaches new runs at once (`changed`).
 */
import { invalidField, TroupeError } from '../../transports/errors.js';
import type { Agent } from '../../store/index.js';
import { publicDefinition, type AgentDefinition } from '../agent_definition.js';
import { agentModelProblem } from '../config.js';
import { seededOnce, type AdminRouter } from './router.js';
import { AgentBody, AgentDeleted, AgentList, AgentOut, AgentPatch, IdParams, LimitQuery } from './schemas.js';

export interface AgentRoutesDeps {
  /** The config file's agents: what a tenant starts with. */
  seed: readonly AgentDefinition[];
  /** Provider ids a chain may name in this tenant. */
  providerIds(tenant: string): Promise<Iterable<string>>;
  /** Told after every change, so new runs use it (the gateway pushes it to the workers). */
  changed(tenant: string): Promise<void>;
}

const out = (a: Agent) => ({ ...publicDefinition(a.config), id: a.name, createdAt: a.createdAt, updatedAt: a.updatedAt });

export function agentRoutes(router: AdminRouter, deps: AgentRoutesDeps): void {
  const ready = seededOnce((store, tenant) => store.seedAgents(tenant, [...deps.seed]));
  const checked = async (tenant: string, id: string, definition: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const problem = agentModelProblem({ ...definition, id }, await deps.providerIds(tenant));
    if (problem !== undefined) throw invalidField(problem.field, problem.message, 'invalid_field');
    return definition;
  };
  const notFound = (id: string) => new TroupeError('NOT_FOUND', `no agent ${id}`, { reason: 'no_agent' });

  router.add({
    verb: 'GET', path: '/agents', action: 'admin.agent.list', summary: "The tenant's agents", tenanted: true,
    query: LimitQuery, response: AgentList,
    handle: async ({ store, tenant, query }) => {
      await ready(store, tenant);
      return { data: (await store.listAgents(tenant, query.limit ?? 100)).map(out) };
    },
  });
  router.add({
    verb: 'GET', path: '/agents/:id', action: 'admin.agent.get', summary: 'One agent', tenanted: true,
    params: IdParams, response: AgentOut,
    handle: async ({ store, tenant, params }) => {
      await ready(store, tenant);
      const a = await store.getAgent(tenant, params.id);
      if (a === null) throw notFound(params.id);
      return out(a);
    },
  });
  router.add({
    verb: 'PUT', path: '/agents/:id', action: 'admin.agent.put', summary: 'Create an agent, or replace its whole definition', tenanted: true,
    params: IdParams, body: AgentBody, response: AgentOut,
    handle: async ({ store, tenant, params, body, who }) => {
      await ready(store, tenant);
      const { agent } = await store.putAgent(tenant, params.id, await checked(tenant, params.id, body), who);
      await deps.changed(tenant);
      return out(agent);
    },
  });
  router.add({
    verb: 'PATCH', path: '/agents/:id', action: 'admin.agent.patch', summary: "Change some of an agent's fields (null removes one)", tenanted: true,
    params: IdParams, body: AgentPatch, response: AgentOut,
    handle: async ({ store, tenant, params, body, who }) => {
      await ready(store, tenant);
      const before = await store.getAgent(tenant, params.id);
      if (before === null) throw notFound(params.id);
      const merged: Record<string, unknown> = { ...before.config };
      for (const [k, v] of Object.entries(body)) {
        if (v === null) delete merged[k];
        else if (v !== undefined) merged[k] = v;
      }
      // The merged definition must be a whole agent, as a PUT body would (an inline key kept from the file is allowed).
      const whole = AgentBody.safeParse(publicDefinition(merged));
      if (!whole.success) {
        const issue = whole.error.issues[0];
        throw invalidField(issue.path.join('.') || 'body', `${issue.path.join('.')}: ${issue.message}`, 'invalid_field');
      }
      const { agent } = await store.putAgent(tenant, params.id, await checked(tenant, params.id, merged), who);
      await deps.changed(tenant);
      return out(agent);
    },
  });
  router.add({
    verb: 'DELETE', path: '/agents/:id', action: 'admin.agent.delete', summary: 'Delete an agent (runs in flight finish)', tenanted: true,
    params: IdParams, response: AgentDeleted,
    handle: async ({ store, tenant, params, who }) => {
      await ready(store, tenant);
      if ((await store.deleteAgent(tenant, params.id, who)) === null) throw notFound(params.id);
      await deps.changed(tenant);
      return { id: params.id, deleted: true as const };
    },
  });
}
