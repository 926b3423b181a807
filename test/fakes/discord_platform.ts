// A fake Discord: the REST API under /api/v10 (users/@me, gateway/bot,
// channels, messages create/edit, typing) with bucket headers and 429
// retry_after, and the gateway WebSocket on the same port:
//
//   connect ─► HELLO {heartbeat_interval}
//   ◄─ IDENTIFY {token, intents}      ─► READY {user, session_id} ─► GUILD_CREATE {channels, threads}
//   ◄─ HEARTBEAT {d: seq}             ─► HEARTBEAT_ACK
//   ◄─ RESUME                         ─► INVALID_SESSION (d: false): identify again
//   dispatch(MESSAGE_CREATE, …)       ─► every identified connection

import { WebSocketServer, type WebSocket } from 'ws';
import { ChatPlatformFake, header, type FakeRequest, type FakeResponse, type FakeOptions } from './chat_platform.js';

export interface DiscordFakeConfig {
  token: string;
  botId?: string;
  guildId?: string;
  /** The guild's text channels and threads (type 0 text, 11 public thread). */
  channels?: Array<{ id: string; type: number; parent_id?: string; name?: string }>;
  heartbeatIntervalMs?: number;
}

interface Conn {
  ws: WebSocket;
  identified: boolean;
  seq: number;
}

let seq = 1000;
const snowflake = (): string => String(BigInt(Date.now()) * 4194304n + BigInt(++seq));

export class DiscordFake extends ChatPlatformFake {
  readonly botId: string;
  readonly guildId: string;
  readonly wss: WebSocketServer;
  private readonly conns = new Set<Conn>();
  heartbeats = 0;
  identifies = 0;
  private readonly channelMap = new Map<string, { id: string; type: number; parent_id?: string; name?: string; guild_id?: string }>();
  private readonly readyWaiters: Array<() => void> = [];

  constructor(readonly config: DiscordFakeConfig, options: FakeOptions = {}) {
    super(options);
    this.botId = config.botId ?? '900000000000000001';
    this.guildId = config.guildId ?? '800000000000000001';
    for (const c of config.channels ?? []) this.channelMap.set(c.id, { ...c, guild_id: this.guildId });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      if (!(req.url ?? '').startsWith('/gateway')) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
    });
  }

  /** What the adapter takes as `apiBase`. */
  get apiBase(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  override async stop(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    this.wss.close();
    await super.stop();
  }

  /** Resolves once a client has identified and received READY. */
  identified(): Promise<void> {
    if ([...this.conns].some((c) => c.identified)) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private onConnection(ws: WebSocket): void {
    const conn: Conn = { ws, identified: false, seq: 0 };
    this.conns.add(conn);
    ws.on('close', () => this.conns.delete(conn));
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.config.heartbeatIntervalMs ?? 1000 }, s: null, t: null }));
    ws.on('message', (data) => {
      let frame: { op?: number; d?: unknown };
      try {
        frame = JSON.parse(String(data)) as { op?: number; d?: unknown };
      } catch {
        ws.close(4002, 'Decode error');
        return;
      }
      switch (frame.op) {
        case 1:
          this.heartbeats++;
          ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
          return;
        case 2: {
          const d = frame.d as { token?: string; intents?: number };
          this.identifies++;
          if (d.token !== this.config.token && d.token !== `Bot ${this.config.token}`) {
            ws.close(4004, 'Authentication failed.');
            return;
          }
          conn.identified = true;
          this.send(conn, 'READY', {
            v: 10,
            user: { id: this.botId, username: 'troupe', discriminator: '0', global_name: null, avatar: null, bot: true },
            guilds: [{ id: this.guildId, unavailable: true }],
            session_id: `session-${this.identifies}`,
            resume_gateway_url: `ws://127.0.0.1:${this.port}/gateway`,
            shard: [0, 1],
            application: { id: this.botId, flags: 0 },
          });
          this.send(conn, 'GUILD_CREATE', {
            id: this.guildId,
            name: 'Fake guild',
            unavailable: false,
            channels: [...this.channelMap.values()].filter((c) => c.type !== 11 && c.type !== 12),
            threads: [...this.channelMap.values()].filter((c) => c.type === 11 || c.type === 12),
            members: [],
            roles: [],
          });
          for (const w of this.readyWaiters.splice(0)) w();
          return;
        }
        case 6:
          ws.send(JSON.stringify({ op: 9, d: false, s: null, t: null }));
          return;
        default:
      }
    });
  }

  private send(conn: Conn, t: string, d: unknown): void {
    conn.seq++;
    conn.ws.send(JSON.stringify({ op: 0, t, s: conn.seq, d }));
  }

  /** Sends a dispatch to every identified connection. */
  dispatch(t: string, d: unknown): void {
    for (const c of this.conns) if (c.identified) this.send(c, t, d);
  }

  /** A user's MESSAGE_CREATE. `channelId` is a DM channel when `guild` is false. */
  userMessage(opts: {
    channelId: string;
    authorId: string;
    content: string;
    guild?: boolean;
    mentionBot?: boolean;
    replyToBotMessage?: string;
    id?: string;
    attachment?: boolean;
  }): string {
    const id = opts.id ?? snowflake();
    const author = { id: opts.authorId, username: `user${opts.authorId}`, discriminator: '0', global_name: null, avatar: null };
    const bot = { id: this.botId, username: 'troupe', discriminator: '0', global_name: null, avatar: null, bot: true };
    const content = opts.mentionBot ? `<@${this.botId}> ${opts.content}` : opts.content;
    this.dispatch('MESSAGE_CREATE', {
      id,
      type: opts.replyToBotMessage ? 19 : 0,
      channel_id: opts.channelId,
      ...(opts.guild ? { guild_id: this.guildId, member: { roles: [], joined_at: new Date().toISOString() } } : {}),
      author,
      content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: opts.mentionBot ? [bot] : [],
      mention_roles: [],
      attachments: opts.attachment
        ? [{ id: snowflake(), filename: 'a.png', size: 10, url: 'https://cdn.invalid/a.png', proxy_url: 'https://cdn.invalid/a.png' }]
        : [],
      embeds: [],
      pinned: false,
      ...(opts.replyToBotMessage
        ? {
            message_reference: { message_id: opts.replyToBotMessage, channel_id: opts.channelId },
            referenced_message: { id: opts.replyToBotMessage, author: bot, content: '', channel_id: opts.channelId, type: 0 },
          }
        : {}),
    });
    return id;
  }

  protected faultable(req: FakeRequest): boolean {
    return /^\/api\/v10\/channels\/[^/]+\/messages/.test(req.path);
  }

  protected route(req: FakeRequest): FakeResponse {
    if (header(req.headers, 'authorization') !== `Bot ${this.config.token}`) {
      return { status: 401, body: { message: '401: Unauthorized', code: 0 } };
    }
    const p = decodeURIComponent(req.path.replace(/^\/api\/v10/, ''));
    if (req.method === 'GET' && p === '/users/@me') {
      return { status: 200, body: { id: this.botId, username: 'troupe', discriminator: '0', global_name: null, avatar: null, bot: true } };
    }
    if (req.method === 'GET' && p === '/gateway/bot') {
      return {
        status: 200,
        body: {
          url: `ws://127.0.0.1:${this.port}/gateway`,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
        },
      };
    }
    const channel = /^\/channels\/(\d+)$/.exec(p);
    if (req.method === 'GET' && channel) {
      const c = this.channelMap.get(channel[1] ?? '');
      return c ? { status: 200, body: c } : { status: 404, body: { message: 'Unknown Channel', code: 10003 } };
    }
    const typing = /^\/channels\/(\d+)\/typing$/.exec(p);
    if (req.method === 'POST' && typing) return { status: 204 };
    const create = /^\/channels\/(\d+)\/messages$/.exec(p);
    if (req.method === 'POST' && create) {
      const b = req.body as { content?: string; message_reference?: { message_id?: string } };
      const text = b.content ?? '';
      if (!text || text.length > 2000) {
        return { status: 400, body: { message: 'Invalid Form Body', code: 50035, errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } } } };
      }
      const target = create[1] ?? '';
      const known = this.channelMap.get(target);
      const isThread = known !== undefined && (known.type === 11 || known.type === 12);
      const m = this.post(isThread ? (known.parent_id ?? target) : target, text, {
        id: snowflake(),
        threadId: isThread ? target : undefined,
        replyTo: b.message_reference?.message_id,
      });
      return { status: 200, headers: bucket(), body: this.apiMessage(m.id, target, text) };
    }
    const edit = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(p);
    if (req.method === 'PATCH' && edit) {
      const b = req.body as { content?: string };
      const text = b.content ?? '';
      if (!text || text.length > 2000) return { status: 400, body: { message: 'Invalid Form Body', code: 50035 } };
      const m = this.edit(edit[2] ?? '', text);
      return m
        ? { status: 200, headers: bucket(), body: this.apiMessage(m.id, edit[1] ?? '', text) }
        : { status: 404, body: { message: 'Unknown Message', code: 10008 } };
    }
    return { status: 404, body: { message: '404: Not Found', code: 0 } };
  }

  private apiMessage(id: string, channelId: string, content: string): Record<string, unknown> {
    return {
      id,
      type: 0,
      channel_id: channelId,
      author: { id: this.botId, username: 'troupe', discriminator: '0', global_name: null, avatar: null, bot: true },
      content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      pinned: false,
    };
  }
}

/** Headers of a bucket with room to spare. */
function bucket(): Record<string, string> {
  return {
    'x-ratelimit-limit': '50',
    'x-ratelimit-remaining': '49',
    'x-ratelimit-reset': String(Date.now() / 1000 + 1),
    'x-ratelimit-reset-after': '1',
    'x-ratelimit-bucket': 'fake-bucket-messages',
  };
}

/** Discord's answer to a sender that ignored the bucket: 429 with retry_after in seconds. */
export function discordRateLimited(retryAfterSeconds = 0.2): FakeResponse {
  return {
    status: 429,
    headers: {
      'retry-after': String(retryAfterSeconds),
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset-after': String(retryAfterSeconds),
      'x-ratelimit-bucket': 'fake-bucket-messages',
      'x-ratelimit-scope': 'user',
    },
    body: { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global: false },
  };
}
