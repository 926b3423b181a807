// A fake Slack Web API (https://api.slack.com/web): `POST /api/<method>` with
// `Authorization: Bearer <bot token>` and form or JSON parameters, `{ ok: true,
// … }` / `{ ok: false, error }` answers (HTTP 200), 429 with Retry-After, and
// the signed Events API requests Slack sends to an app.
import { slackSignature } from '../../transports/channels/slack/events.js';
import { ChatPlatformFake, header, type FakeRequest, type FakeResponse, type FakeOptions } from './chat_platform.js';

export const SLACK_TOKEN = 'xoxb-1111-2222-FakeSlackTokenForTests';
export const SLACK_SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
export const SLACK_BOT_USER = 'UBOT0001';

export class FakeSlack extends ChatPlatformFake {
  #ts = 1_700_000_000_000_100;
  #eventId = 1;

  constructor(readonly token = SLACK_TOKEN, options: FakeOptions = {}) {
    super(options);
  }

  /** The Web API root to give the SDK (`slackApiUrl`). */
  get apiBase(): string {
    return `${this.url}/api/`;
  }

  protected faultable(req: FakeRequest): boolean {
    return req.path === '/api/chat.postMessage' || req.path === '/api/chat.update';
  }

  protected route(req: FakeRequest): FakeResponse {
    const m = /^\/api\/([\w.]+)$/.exec(req.path);
    if (m === null) return { status: 404, body: { ok: false, error: 'not_found' } };
    const ok = (body: Record<string, unknown>): FakeResponse => ({ status: 200, body: { ok: true, ...body } });
    if (header(req.headers, 'authorization') !== `Bearer ${this.token}`) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    const p = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    switch (m[1]) {
      case 'auth.test':
        return ok({ url: 'https://acme.slack.com/', team: 'Acme', user: 'troupe', team_id: 'T0001', user_id: SLACK_BOT_USER, bot_id: 'B0001' });
      case 'chat.postMessage': {
        const ts = this.#nextTs();
        this.post(String(p.channel), String(p.text), { id: ts, threadId: p.thread_ts === undefined ? undefined : String(p.thread_ts) });
        return ok({ channel: p.channel, ts, message: { text: p.text, ts } });
      }
      case 'chat.update': {
        const sent = this.message(String(p.ts));
        if (sent === undefined || sent.chatId !== String(p.channel)) return { status: 200, body: { ok: false, error: 'message_not_found' } };
        this.edit(sent.id, String(p.text));
        return ok({ channel: p.channel, ts: p.ts, text: p.text });
      }
      default:
        return { status: 200, body: { ok: false, error: 'unknown_method' } };
    }
  }

  #nextTs(): string {
    const n = this.#ts++;
    return `${Math.floor(n / 1e6)}.${String(n % 1e6).padStart(6, '0')}`;
  }

  /** An Events API `event_callback` body with a message event. */
  event(o: { channel: string; user?: string; text?: string; im?: boolean; mention?: boolean; threadTs?: string; ts?: string; type?: 'message' | 'app_mention'; file?: boolean; eventId?: string }): Record<string, unknown> {
    const text = o.mention === true ? `<@${SLACK_BOT_USER}> ${o.text ?? 'hello'}` : (o.text ?? 'hello');
    return {
      token: 'verification-token-unused', team_id: 'T0001', api_app_id: 'A0001', type: 'event_callback',
      event_id: o.eventId ?? `Ev${String(this.#eventId++).padStart(8, '0')}`, event_time: Math.floor(Date.now() / 1000),
      event: {
        type: o.type ?? 'message', channel: o.channel, user: o.user ?? 'U0ADA', text, ts: o.ts ?? this.#nextTs(),
        channel_type: o.im === true ? 'im' : 'channel', event_ts: '1.2',
        ...(o.threadTs === undefined ? {} : { thread_ts: o.threadTs }),
        ...(o.file === true ? { subtype: 'file_share', files: [{ id: 'F1', name: 'cat.png' }] } : {}),
      },
    };
  }

  /** The headers Slack signs a request with (v0 HMAC over `v0:<ts>:<body>`). */
  static sign(body: string, secret = SLACK_SIGNING_SECRET, at = Date.now()): Record<string, string> {
    const ts = String(Math.floor(at / 1000));
    return { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(secret, ts, body) };
  }
}
