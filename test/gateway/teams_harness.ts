// A gateway with agent teams for the end-to-end tests: one fake OpenAI upstream
// per scripted agent (so each agent's replies come in its own order however the
// agents interleave), PGlite in a temp folder, and a WebSocket client that
// watches the team's events.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import WebSocket from 'ws';
import type { AgentConfig } from '../../actors/protocol.js';
import type { TeamConfig } from '../../actors/team/protocol.js';
import { loadConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { signToken } from '../../security/jwt.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import type { ScriptedReply } from '../fakes/script.js';

export const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

export interface AgentSpec {
  /** Scripted replies (a fake upstream of its own), or a ready agent config minus its id. */
  script?: ScriptedReply[];
  config?: Omit<AgentConfig, 'id'>;
  allowAgents?: string[];
  delegationDepth?: number;
  /** What the fake answers once the script is used up. */
  fallback?: ScriptedReply;
}

export interface TeamGateway {
  gw: RunningGateway;
  fakes: Map<string, OpenAIUpstream>;
  tenant: string;
  token: string;
}

export async function startTeamGateway(
  t: Test, agents: Record<string, AgentSpec>, teams: TeamConfig[], env: Record<string, string> = {},
): Promise<TeamGateway> {
  const fakes = new Map<string, OpenAIUpstream>();
  const configs: AgentConfig[] = [];
  for (const [id, spec] of Object.entries(agents)) {
    let config: Omit<AgentConfig, 'id'>;
    if (spec.config !== undefined) config = spec.config;
    else {
      const fake = new OpenAIUpstream(spec.fallback === undefined ? {} : { defaultReply: spec.fallback });
      fake.script(...(spec.script ?? []));
      await fake.start();
      t.teardown(() => fake.close());
      fakes.set(id, fake);
      config = { model: 'fake-model', provider: { kind: 'openai', apiKey: 'sk-test', baseURL: `${fake.url}/v1` } };
    }
    configs.push({
      id, ...config, ...(spec.allowAgents ? { allowAgents: spec.allowAgents } : {}),
      ...(spec.delegationDepth === undefined ? {} : { delegationDepth: spec.delegationDepth }),
    });
  }
  const gw = await startGateway({
    ...loadConfig({
      TROUPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'troupe-teams-')), TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET,
      TROUPE_STORE: 'pglite', ...env,
    }),
    agents: configs,
    teams,
  });
  t.teardown(() => gw.shutdown());
  const tenant = `t${randomBytes(4).toString('hex')}`;
  const token = await signToken({ secret: SECRET, tenant, user: 'alice', scopes: ['chat'], ttlSec: 600 });
  return { gw, fakes, tenant, token };
}

export interface Frame { type: string; id?: string; ok?: boolean; event?: string; payload?: Record<string, unknown>; error?: { code: string; message: string } }

/** A WebSocket client that keeps every frame and can wait for one. */
export class Client {
  readonly frames: Frame[] = [];
  private nextId = 0;
  private waiters: (() => void)[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.frames.push(JSON.parse(String(d)) as Frame);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(port: number, token: string): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`);
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const c = new Client(ws);
    await c.call('connect', {});
    return c;
  }

  /** Resolves with the first frame matching `pred` (past or future); rejects after `ms`. */
  async waitFor(pred: (f: Frame) => boolean, ms = 60_000, what = 'frame'): Promise<Frame> {
    const until = Date.now() + ms;
    for (;;) {
      const hit = this.frames.find(pred);
      if (hit !== undefined) return hit;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 200);
        this.waiters.push(() => { clearTimeout(timer); r(); });
      });
    }
  }

  async call(method: string, params: Record<string, unknown>): Promise<Frame> {
    const id = String(++this.nextId);
    this.ws.send(JSON.stringify({ type: 'req', id, method, params }));
    return this.waitFor((f) => f.type === 'res' && f.id === id, 30_000, `the answer to ${method}`);
  }

  /**
   * Starts the session (ping spawns it and loads its history), retrying while the
   * machine is too busy to answer in time, so chat.send then never times out.
   */
  async warm(sessionKey: string): Promise<void> {
    let last: Frame | undefined;
    for (let i = 0; i < 20; i++) {
      last = await this.call('ping', { sessionKey });
      if (last.ok === true) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`session ${sessionKey} never answered ping: ${JSON.stringify(last?.error)}`);
  }

  /** chat.send, then the run's chat.final (or chat.error). */
  async turn(params: Record<string, unknown>, ms = 60_000): Promise<Frame> {
    if (typeof params.sessionKey === 'string') await this.warm(params.sessionKey);
    const res = await this.call('chat.send', params);
    if (res.ok !== true) throw new Error(`chat.send refused: ${JSON.stringify(res.error)}`);
    const runId = res.payload?.runId;
    return this.waitFor((f) => (f.event === 'chat.final' || f.event === 'chat.error') && f.payload?.runId === runId, ms, 'the end of the turn');
  }

  events(prefix: string): Frame[] {
    return this.frames.filter((f) => f.type === 'event' && typeof f.event === 'string' && f.event.startsWith(prefix));
  }

  close(): void {
    this.ws.close();
  }
}

interface Sent { messages: { role: string; content: string | null; tool_call_id?: string }[] }

/** The messages of a fake's n-th request. */
export function sent(fake: OpenAIUpstream | undefined, n: number): Sent['messages'] {
  return ((fake?.requests[n]?.body as Sent | undefined)?.messages) ?? [];
}

/** Every user message any request to this fake carried (deduplicated, in order). */
export function userMessages(fake: OpenAIUpstream | undefined): string[] {
  const seen = new Set<string>();
  for (const r of fake?.requests ?? []) {
    for (const m of (r.body as Sent).messages) if (m.role === 'user' && typeof m.content === 'string') seen.add(m.content);
  }
  return [...seen];
}

/** Polls `check` until it holds or `ms` pass; returns its last value. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 30_000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
