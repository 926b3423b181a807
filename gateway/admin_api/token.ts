/**
 * POST /admin/v1/token: sign-in. Any valid credential (an API key or a JWT)
 * gets a short-lived HS256 JWT for the same tenant and user, carrying at most
 * its scopes, and never outliving it. The console signs in this way, so it
 * keeps only the short-lived token, never the key. Rate-limited like the
 * WebSocket's `connect`, and audited in the caller's tenant chain.
 */
import { parseTtl } from '../../security/jwt.js';
import { allows, type Scope } from '../../security/scopes.js';
import { invalidField, TroupeError } from '../../transports/errors.js';
import type { AdminRouter } from './router.js';
import { TokenBody, TokenOut } from './schemas.js';

/** A token lasts this long unless the body asks for less (or more, up to the cap). */
export const SIGN_IN_TTL_SEC = 30 * 60;
export const MAX_SIGN_IN_TTL_SEC = 60 * 60;

export interface IssueClaims { tenant: string; user: string; scopes: string[]; ttlSec: number; keyId?: string; /** epoch ms */ now: number }

/** Signs with the gateway's HS256 secret; absent when the gateway only verifies (TROUPE_JWKS). */
export type TokenSigner = (claims: IssueClaims) => Promise<string>;

const ACTION = 'admin.token.issue';

function ttlOf(text: string | undefined): number {
  if (text === undefined) return SIGN_IN_TTL_SEC;
  let sec: number;
  try {
    sec = parseTtl(text);
  } catch (err) {
    throw invalidField('expiresIn', `expiresIn: ${(err as Error).message}`, 'field_range');
  }
  if (sec > MAX_SIGN_IN_TTL_SEC) throw invalidField('expiresIn', `expiresIn: at most ${MAX_SIGN_IN_TTL_SEC / 60}m`, 'field_range');
  return sec;
}

export function tokenRoutes(router: AdminRouter, sign: TokenSigner | undefined): void {
  router.add({
    verb: 'POST', path: '/token', action: ACTION, tenanted: false, signIn: true,
    summary: 'Sign in: exchange a credential (API key or JWT) for a short-lived token with at most its scopes',
    body: TokenBody, response: TokenOut,
    handle: async ({ principal: p, who, store, body }) => {
      const audit = (outcome: 'success' | 'denied', detail: Record<string, unknown>) => store.audit(p.tenant, {
        actor: who.actor, action: ACTION, outcome, ...(who.sourceIp === undefined ? {} : { sourceIp: who.sourceIp }), detail: { ...who.detail, ...detail },
      });
      const scopes = body.scopes ?? p.scopes;
      const lacking = (body.scopes ?? []).filter((s) => !allows(p.scopes, s as Scope));
      if (lacking.length > 0) {
        await audit('denied', { reason: 'scope_escalation', asked: body.scopes, scopes: p.scopes });
        throw new TroupeError('FORBIDDEN', `scopes: the credential does not hold "${lacking[0]}"`, { reason: 'scope_escalation', field: 'scopes' });
      }
      const ttl = ttlOf(body.expiresIn);
      if (sign === undefined) {
        throw new TroupeError('NOT_FOUND', 'This gateway verifies tokens with a JWKS and issues none: get a token from the identity provider', { reason: 'no_signing_key' });
      }
      // Never past the credential's own expiry: a token cannot renew itself into a longer life.
      const now = Date.now();
      const iat = Math.floor(now / 1000);
      const ttlSec = p.expiresAt === undefined ? ttl : Math.min(ttl, Math.floor(p.expiresAt / 1000) - iat);
      if (ttlSec < 1) throw new TroupeError('UNAUTHORIZED', 'Credentials have expired', { reason: 'token_expired' });
      const token = await sign({ tenant: p.tenant, user: p.user, scopes, ttlSec, now, ...(p.keyId === undefined ? {} : { keyId: p.keyId }) });
      const expiresAt = new Date((iat + ttlSec) * 1000);
      await audit('success', { scopes, expiresAt: expiresAt.toISOString(), ttlSec });
      return { token, tokenType: 'Bearer', expiresAt, expiresIn: ttlSec, tenant: p.tenant, user: p.user, scopes };
    },
  });
}
