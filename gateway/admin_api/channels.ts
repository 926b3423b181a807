/**
 * /admin/v1/channels (`channels`, implied by `admin`): the tenant's configured
 * chat channels with their pairings, and approving or denying a pairing. A
 * channel of another tenant is NOT_FOUND, as one that does not exist.
 */
import type { ChannelSpec } from '../../transports/channels/config.js';
import type { ChannelPairing } from '../../store/index.js';
import { TroupeError } from '../../transports/errors.js';
import type { AdminRouter } from './router.js';
import { ApproveBody, ChannelList, DenyBody, IdParams, PairingDecision } from './schemas.js';

const out = (p: ChannelPairing) => ({
  userId: p.userId, userName: p.userName, status: p.status, code: p.status === 'pending' ? p.code : null, createdAt: p.createdAt, approvedAt: p.approvedAt,
});

export function channelRoutes(router: AdminRouter, channels: readonly ChannelSpec[]): void {
  const channelOf = (tenant: string, id: string): ChannelSpec => {
    const c = channels.find((x) => x.id === id && x.tenant === tenant);
    if (c === undefined) throw new TroupeError('NOT_FOUND', `no channel ${id}`, { reason: 'no_channel' });
    return c;
  };
  router.add({
    verb: 'GET', path: '/channels', action: 'admin.channel.list', summary: "The tenant's chat channels and their pairings", tenanted: true,
    response: ChannelList,
    handle: async ({ store, tenant }) => ({
      data: await Promise.all(channels.filter((c) => c.tenant === tenant).map(async (c) => ({
        id: c.id, platform: c.platform, agent: c.agent ?? null, access: c.access.mode, mode: c.mode ?? 'webhook',
        pairings: (await store.listPairings(tenant, c.id)).map(out),
      }))),
    }),
  });
  router.add({
    verb: 'POST', path: '/channels/:id/pairings/approve', action: 'admin.pairing.approve', summary: 'Approve the user who received this pairing code', tenanted: true,
    params: IdParams, body: ApproveBody, response: PairingDecision,
    handle: async ({ store, tenant, params, body, who }) => {
      const c = channelOf(tenant, params.id);
      const user = await store.approvePairing(tenant, c.id, body.code, who);
      if (user === null) throw new TroupeError('NOT_FOUND', `no pending pairing on ${c.id} with that code`, { reason: 'no_pairing', field: 'code' });
      return { channel: c.id, userId: user, status: 'approved' };
    },
  });
  router.add({
    verb: 'POST', path: '/channels/:id/pairings/deny', action: 'admin.pairing.deny', summary: "Deny a user's pairing request, or revoke its approval", tenanted: true,
    params: IdParams, body: DenyBody, response: PairingDecision,
    handle: async ({ store, tenant, params, body, who }) => {
      const c = channelOf(tenant, params.id);
      if (!(await store.denyPairing(tenant, c.id, body.userId, who))) {
        throw new TroupeError('NOT_FOUND', `user ${body.userId} has no pairing on ${c.id}`, { reason: 'no_pairing', field: 'userId' });
      }
      return { channel: c.id, userId: body.userId, status: 'denied' };
    },
  });
}
