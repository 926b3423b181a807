/**
 * The WebSocket RPC methods: for each, the params schema checked at the edge,
 * whether it needs an authenticated connection, and the handler that turns it
 * into one backend call. Adding a method is adding one entry here.
 */
import { MAX_SESSION_KEY } from '../actors/chat_contract.js';
import { abortRun, startRun } from './chat_run.js';
import { authenticate, limitKeys, takeOrThrow, type FrontDoorContext } from './context.js';
import { TroupeError } from './errors.js';
import { validate, type Infer, type Schema } from './schema.js';
import type { WsConnection } from './ws_connection.js';

export const PROTOCOL_VERSION = 1;
const SESSION_KEY = { kind: 'string', maxLength: MAX_SESSION_KEY } as const;

/** What a handler answers: the payload, and work to do right after it is sent. */
export interface MethodResult {
  payload: unknown;
  afterReply?: () => void;
}

interface MethodSpec<S extends Schema> {
  schema: S;
  /** False only for `connect`, which is how a connection authenticates. */
  needsAuth: boolean;
  run(ctx: FrontDoorContext, conn: WsConnection, params: Infer<S>): Promise<MethodResult>;
}

function method<S extends Schema>(spec: MethodSpec<S>): MethodSpec<Schema> {
  return spec as unknown as MethodSpec<Schema>;
}

const plain = (payload: unknown): MethodResult => ({ payload });

function principalOf(conn: WsConnection): NonNullable<WsConnection['principal']> {
  if (conn.principal === undefined) throw new TroupeError('UNAUTHORIZED', 'Send connect first', { reason: 'not_connected' });
  return conn.principal;
}

export const METHODS: Readonly<Record<string, MethodSpec<Schema>>> = {
  connect: method({
    schema: {
      token: { kind: 'string', maxLength: 8192 },
      protocol: { kind: 'integer', min: 1, max: 1_000_000 },
    },
    needsAuth: false,
    async run(ctx, conn, params) {
      if (conn.connected || conn.connecting) {
        throw new TroupeError('INVALID_REQUEST', 'connect was already sent on this connection', { reason: 'already_connected' });
      }
      if (params.protocol !== undefined && params.protocol !== PROTOCOL_VERSION) {
        throw new TroupeError('INVALID_REQUEST', `Unsupported protocol ${params.protocol}; this server speaks ${PROTOCOL_VERSION}`, {
          reason: 'unsupported_protocol', field: 'protocol',
        });
      }
      conn.connecting = true;
      try {
        if (params.token !== undefined) conn.authenticated(await authenticate(ctx, params.token, conn.ip));
        else if (conn.principal === undefined) {
          throw new TroupeError('UNAUTHORIZED', 'No credentials: pass params.token, an Authorization header or ?token=', {
            reason: 'missing_token', field: 'token',
          });
        }
      } finally {
        conn.connecting = false;
      }
      const p = principalOf(conn);
      // A connection authenticated on its upgrade is answered only while its API key, if any, is live.
      if (p.keyId !== undefined) await conn.keyCheck();
      await takeOrThrow(ctx, 'connect', limitKeys(p));
      conn.connected = true;
      const { config } = ctx;
      return plain({
        protocol: PROTOCOL_VERSION,
        user: p.user,
        tenant: p.tenant,
        server: { name: 'troupe', version: config.serverVersion, engine: ctx.engine },
        policy: {
          maxPayloadBytes: config.maxPayloadBytes,
          heartbeatMs: Math.floor((config.idleTimeoutSec * 1000) / 2),
          maxInflight: config.maxInflightPerConnection,
        },
      });
    },
  }),

  ping: method({
    schema: { sessionKey: SESSION_KEY },
    needsAuth: true,
    async run(ctx, conn, params) {
      return plain(await ctx.backend.ping(principalOf(conn), params.sessionKey));
    },
  }),

  'chat.send': method({
    schema: {
      message: { kind: 'string', required: true, maxLength: 256 * 1024 },
      sessionKey: SESSION_KEY,
      agent: { kind: 'string', maxLength: 128 },
      idempotencyKey: { kind: 'string', maxLength: 128 },
      // Any string: one that is not a valid traceparent is ignored (the turn starts a new trace).
      traceparent: { kind: 'string', maxLength: 4096 },
    },
    needsAuth: true,
    async run(ctx, conn, params) {
      const p = principalOf(conn);
      const run = await startRun(ctx, 'ws', { ...p, sourceIp: conn.ip }, params, (event, payload) => conn.event(event, payload));
      return { payload: { runId: run.runId, sessionKey: run.sessionKey }, afterReply: run.release };
    },
  }),

  'chat.abort': method({
    schema: { runId: { kind: 'string', maxLength: 128 }, sessionKey: SESSION_KEY },
    needsAuth: true,
    async run(ctx, conn, params) {
      return plain(await abortRun(ctx, principalOf(conn), params));
    },
  }),

  'chat.history': method({
    schema: { sessionKey: { ...SESSION_KEY, required: true }, limit: { kind: 'integer', min: 1, max: 1000 } },
    needsAuth: true,
    async run(ctx, conn, params) {
      return plain(await ctx.backend.chatHistory(principalOf(conn), params));
    },
  }),

  'sessions.list': method({
    schema: {},
    needsAuth: true,
    async run(ctx, conn) {
      return plain(await ctx.backend.sessionsList(principalOf(conn)));
    },
  }),

  'agents.list': method({
    schema: {},
    needsAuth: true,
    async run(ctx, conn) {
      return plain(await ctx.backend.agentsList(principalOf(conn)));
    },
  }),

  'admin.fault': method({
    schema: { kind: { kind: 'string', required: true, maxLength: 64 }, worker: { kind: 'integer', min: 0, max: 4096 } },
    needsAuth: true,
    async run(ctx, conn, params) {
      if (ctx.backend.injectFault === undefined) {
        throw new TroupeError('FORBIDDEN', 'Fault injection is not enabled on this server', { reason: 'faults_disabled' });
      }
      return plain(await ctx.backend.injectFault(principalOf(conn), params));
    },
  }),

  'team.board': method({
    schema: {
      team: { kind: 'string', required: true, maxLength: 128 },
      runId: { kind: 'string', maxLength: 128 },
      status: { kind: 'string', maxLength: 32 },
    },
    needsAuth: true,
    async run(ctx, conn, params) {
      if (ctx.backend.teamBoard === undefined) throw new TroupeError('NOT_FOUND', 'This server runs no teams', { reason: 'no_teams' });
      return plain(await ctx.backend.teamBoard(principalOf(conn), params));
    },
  }),

  'team.watch': method({
    schema: { team: { kind: 'string', maxLength: 128 }, sessionKey: SESSION_KEY },
    needsAuth: true,
    async run(ctx, conn, params) {
      if (ctx.backend.teamWatch === undefined) throw new TroupeError('NOT_FOUND', 'This server runs no teams', { reason: 'no_teams' });
      conn.onClose(ctx.backend.teamWatch(principalOf(conn), params, (event, payload) => conn.event(event, payload)));
      return plain({ watching: true });
    },
  }),

  health: method({
    schema: {},
    needsAuth: true,
    async run(ctx) {
      return plain({ ...(await ctx.backend.health()), engine: ctx.engine, uptimeMs: Date.now() - ctx.startedAt });
    },
  }),
};

/** Params after schema validation, for the dispatcher. */
export function validateParams(spec: MethodSpec<Schema>, params: Record<string, unknown>): Infer<Schema> {
  return validate(spec.schema, params);
}

export type { MethodSpec };
