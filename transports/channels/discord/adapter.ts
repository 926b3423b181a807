/**
 * Discord adapter: inbound over the gateway WebSocket, outbound over REST,
 * both through discord.js's own libraries (`@discordjs/ws`, `@discordjs/rest`),
 * pointed at `apiBase`.
 *
 *   start: REST GET /users/@me (token check) ─► GET /gateway/bot ─► wss url
 *          ◄─ HELLO   ─► IDENTIFY   ◄─ READY   (heartbeats every interval)
 *          ◄─ GUILD_CREATE / THREAD_CREATE: channel → parent, for threads
 *          ◄─ MESSAGE_CREATE ─► ctx.deliver
 *   send:  POST  /channels/<chat or thread>/messages
 *   edit:  PATCH /channels/<chat or thread>/messages/<id>
 *
 * Rate limits: `@discordjs/rest` reads the bucket headers; it is told to
 * reject instead of waiting, so a limited send surfaces as a 429
 * `ChannelSendError` with the bucket's reset and the channel actor's queue
 * decides when to try again. A thread is a channel with a parent: its session
 * is `<parent>:<thread>`, and replies go to the thread channel.
 */
import { DiscordAPIError, HTTPError, RateLimitError, REST } from '@discordjs/rest';
import { WebSocketManager, WebSocketShardEvents } from '@discordjs/ws';
import {
  ChannelType,
  GatewayDispatchEvents,
  GatewayIntentBits,
  MessageType,
  Routes,
  type APIChannel,
  type APIMessage,
  type APIUser,
  type GatewayDispatchPayload,
  type GatewayMessageCreateDispatchData,
} from 'discord-api-types/v10';
import { traceHeaders } from '../../../observability/tracing.js';
import {
  ChannelAuthError,
  ChannelSendError,
  type AdapterContext,
  type ChannelAdapter,
  type InboundMessage,
  type PlatformLimits,
  type SentMessage,
} from '../adapter.js';

export interface DiscordConfig {
  token: string;
  /** REST root, e.g. https://discord.com/api (requests go to <apiBase>/v10/...). */
  apiBase?: string;
  timeoutMs?: number;
}

const THREAD_TYPES = new Set<number>([ChannelType.PublicThread, ChannelType.PrivateThread, ChannelType.AnnouncementThread]);
/** Channels remembered for thread → parent lookups; oldest forgotten first. */
const MAX_KNOWN_CHANNELS = 10_000;
/** Nobody is pinged by a reply: mentions in agent text stay plain text. */
const NO_MENTIONS = { parse: [] as never[] };

interface KnownChannel {
  parentId?: string;
  thread: boolean;
}

export class DiscordAdapter implements ChannelAdapter {
  readonly platform = 'discord' as const;
  readonly limits: PlatformLimits = { maxChars: 2000, canEdit: true, perChatPerSecond: 5, perBotPerSecond: 50 };
  private readonly rest: REST;
  private gateway?: WebSocketManager;
  private botId = '';
  private readonly channels = new Map<string, KnownChannel>();

  constructor(private readonly config: DiscordConfig) {
    this.rest = new REST({
      api: config.apiBase ?? 'https://discord.com/api',
      version: '10',
      retries: 0,
      timeout: config.timeoutMs ?? 15_000,
      rejectOnRateLimit: () => true,
    }).setToken(config.token);
  }

  async start(ctx: AdapterContext): Promise<void> {
    let me: APIUser;
    try {
      me = (await this.rest.get(Routes.user('@me'))) as APIUser;
    } catch (err) {
      const e = toSendError(err);
      if (e.status === 401 || e.status === 403) throw new ChannelAuthError(`Discord rejected the bot token (${e.message})`);
      throw e;
    }
    this.botId = me.id;
    const gateway = new WebSocketManager({
      token: this.config.token,
      intents:
        GatewayIntentBits.Guilds |
        GatewayIntentBits.GuildMessages |
        GatewayIntentBits.DirectMessages |
        GatewayIntentBits.MessageContent,
      rest: this.rest,
    });
    gateway.on(WebSocketShardEvents.Dispatch, (payload) => {
      void this.onDispatch(payload, ctx).catch((err: unknown) =>
        ctx.log('warn', 'discord dispatch failed', { error: (err as Error).message }),
      );
    });
    gateway.on(WebSocketShardEvents.Error, (err) => ctx.log('warn', 'discord gateway error', { error: err.message }));
    this.gateway = gateway;
    await gateway.connect();
  }

  async stop(): Promise<void> {
    const gateway = this.gateway;
    this.gateway = undefined;
    if (gateway) await gateway.destroy();
  }

  private async onDispatch(payload: GatewayDispatchPayload, ctx: AdapterContext): Promise<void> {
    switch (payload.t) {
      case GatewayDispatchEvents.GuildCreate:
        for (const c of [...(payload.d.channels ?? []), ...(payload.d.threads ?? [])]) this.remember(c);
        return;
      case GatewayDispatchEvents.ChannelCreate:
      case GatewayDispatchEvents.ThreadCreate:
        this.remember(payload.d);
        return;
      case GatewayDispatchEvents.MessageCreate: {
        const message = await this.toInbound(payload.d);
        if (message) ctx.deliver([message]);
        return;
      }
      default:
    }
  }

  private remember(channel: Pick<APIChannel, 'id' | 'type'> & { parent_id?: string | null }): void {
    if (this.channels.size >= MAX_KNOWN_CHANNELS) {
      const oldest = this.channels.keys().next();
      if (!oldest.done) this.channels.delete(oldest.value);
    }
    this.channels.set(channel.id, { thread: THREAD_TYPES.has(channel.type), parentId: channel.parent_id ?? undefined });
  }

  private async channel(id: string): Promise<KnownChannel> {
    const known = this.channels.get(id);
    if (known) return known;
    const fetched = (await this.rest.get(Routes.channel(id))) as APIChannel & { parent_id?: string | null };
    this.remember(fetched);
    return this.channels.get(id) ?? { thread: false };
  }

  private async toInbound(m: GatewayMessageCreateDispatchData): Promise<InboundMessage | undefined> {
    if (m.author.bot || m.author.id === this.botId || m.webhook_id) return undefined;
    if (m.type !== MessageType.Default && m.type !== MessageType.Reply) return undefined;
    const inGuild = m.guild_id !== undefined;
    let chatId = m.channel_id;
    let threadId: string | undefined;
    if (inGuild) {
      const ch = await this.channel(m.channel_id);
      if (ch.thread && ch.parentId) {
        chatId = ch.parentId;
        threadId = m.channel_id;
      }
    }
    const mentioned = m.mentions.some((u) => u.id === this.botId);
    const repliedToBot = m.referenced_message?.author.id === this.botId;
    const hasText = m.content.trim() !== '';
    const unsupported = !hasText && (m.attachments.length > 0 || (m.sticker_items?.length ?? 0) > 0);
    if (!hasText && !unsupported) return undefined;
    return {
      eventId: m.id,
      chatId,
      threadId,
      userId: m.author.id,
      userName: m.author.global_name ?? m.author.username,
      chatType: inGuild ? 'group' : 'direct',
      kind: unsupported ? 'unsupported' : 'text',
      text: unsupported ? '' : stripMention(m.content, this.botId),
      addressed: !inGuild || mentioned || repliedToBot,
      messageId: m.id,
    };
  }

  /** Discord speaks Markdown natively. */
  render(markdown: string): string {
    return markdown;
  }

  async send(chatId: string, text: string, opts?: { threadId?: string; replyTo?: string }): Promise<SentMessage> {
    const target = opts?.threadId ?? chatId;
    try {
      const sent = (await this.rest.post(Routes.channelMessages(target), {
        headers: traceHeaders(),
        body: {
          content: text,
          allowed_mentions: NO_MENTIONS,
          ...(opts?.replyTo ? { message_reference: { message_id: opts.replyTo, fail_if_not_exists: false } } : {}),
        },
      })) as APIMessage;
      return { messageId: sent.id };
    } catch (err) {
      throw toSendError(err);
    }
  }

  async edit(chatId: string, messageId: string, text: string, opts?: { threadId?: string }): Promise<void> {
    try {
      await this.rest.patch(Routes.channelMessage(opts?.threadId ?? chatId, messageId), {
        headers: traceHeaders(),
        body: { content: text, allowed_mentions: NO_MENTIONS },
      });
    } catch (err) {
      throw toSendError(err);
    }
  }

  async typing(chatId: string, opts?: { threadId?: string }): Promise<void> {
    try {
      await this.rest.post(Routes.channelTyping(opts?.threadId ?? chatId));
    } catch (err) {
      throw toSendError(err);
    }
  }
}

/** Removes `<@id>` / `<@!id>` mentions of the bot and the space they leave. */
export function stripMention(content: string, botId: string): string {
  return content.replace(new RegExp(`<@!?${botId}>`, 'g'), '').replace(/\s{2,}/g, ' ').trim();
}

function toSendError(err: unknown): ChannelSendError {
  if (err instanceof ChannelSendError) return err;
  if (err instanceof RateLimitError) return new ChannelSendError(`Discord rate limit on ${err.route}`, 429, Math.max(err.retryAfter, err.timeToReset, 1));
  if (err instanceof DiscordAPIError) return new ChannelSendError(`Discord: ${err.message}`, err.status);
  if (err instanceof HTTPError) return new ChannelSendError(`Discord: ${err.message}`, err.status);
  return new ChannelSendError(`Discord: no answer (${(err as Error).message})`, 0);
}
