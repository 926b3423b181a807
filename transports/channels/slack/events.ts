/**
 * Slack Events API requests: the `v0` signature (HMAC-SHA256 of
 * `v0:<timestamp>:<raw body>` with the signing secret), the 5-minute
 * timestamp window, the `url_verification` challenge, and message events →
 * InboundMessage.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookRejected, type InboundMessage, type WebhookRequest } from '../adapter.js';

/** Slack refuses requests older than this; so do we (replays). */
export const SLACK_MAX_SKEW_MS = 5 * 60_000;

export function slackSignature(signingSecret: string, timestamp: string, rawBody: Buffer | string): string {
  return 'v0=' + createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex');
}

/** Throws WebhookRejected(401) unless the request is signed with `signingSecret` within the window. */
export function verifySlackRequest(req: WebhookRequest, signingSecret: string): void {
  const ts = req.headers['x-slack-request-timestamp'];
  const sig = req.headers['x-slack-signature'];
  if (ts === undefined || sig === undefined || !/^\d{1,12}$/.test(ts)) throw new WebhookRejected(401, 'bad_signature', 'missing Slack signature headers');
  const expected = Buffer.from(slackSignature(signingSecret, ts, req.rawBody));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new WebhookRejected(401, 'bad_signature');
  // Checked after the signature, so an attacker learns nothing about the window from unsigned requests.
  if (Math.abs(req.now - Number(ts) * 1000) > SLACK_MAX_SKEW_MS) throw new WebhookRejected(401, 'stale', 'Slack timestamp outside the 5-minute window');
}

interface SlackEvent {
  type: string;
  subtype?: string;
  channel?: string;
  channel_type?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
  files?: unknown[];
}

export type SlackBody =
  | { type: 'url_verification'; challenge: string }
  | { type: 'event_callback'; event_id: string; event: SlackEvent }
  | { type: string };

/** Subtypes that are a person writing something the channel should look at. */
const USER_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast']);

/** The message an event carries, or undefined for events the channel ignores (bots, edits, joins). */
export function parseSlackEvent(event: SlackEvent, botUserId: string | undefined): InboundMessage | undefined {
  if (event.type !== 'message' && event.type !== 'app_mention') return undefined;
  if (event.bot_id !== undefined || !USER_SUBTYPES.has(event.subtype) || event.user === undefined || event.user === botUserId) return undefined;
  if (event.channel === undefined || event.ts === undefined) return undefined;
  const direct = event.channel_type === 'im';
  const mention = botUserId === undefined ? undefined : `<@${botUserId}>`;
  const raw = event.text ?? '';
  const addressed = direct || event.type === 'app_mention' || (mention !== undefined && raw.includes(mention));
  const text = (mention === undefined ? raw : raw.split(mention).join(' ')).replace(/\s+/g, ' ').trim();
  const unsupported = event.subtype === 'file_share' || (event.files !== undefined && text.length === 0);
  return {
    // `message` and `app_mention` both arrive for one mention, under different event ids: the message's ts is the key.
    eventId: `${event.channel}:${event.ts}`,
    chatId: event.channel,
    ...(event.thread_ts === undefined ? {} : { threadId: event.thread_ts }),
    userId: event.user,
    chatType: direct ? 'direct' : 'group',
    kind: unsupported ? 'unsupported' : 'text',
    text: unsupported ? '' : text,
    addressed,
    messageId: event.ts,
  };
}
