// A fake Zalo OA OpenAPI: GET /v2.0/oa/getoa and POST /v3.0/oa/message/cs
// (header access_token; errors as HTTP 200 with a non-zero `error`), and the
// OA webhooks Zalo sends (X-ZEvent-Signature: mac=sha256(appId+body+timestamp+oaSecretKey)).

import { signZalo } from '../../transports/channels/zalo/adapter.js';
import { ChatPlatformFake, header, postWebhook, type FakeRequest, type FakeResponse, type FakeOptions } from './chat_platform.js';

export interface ZaloFakeConfig {
  accessToken: string;
  oaSecretKey: string;
  appId: string;
  oaId?: string;
}

let seq = 0;

export class ZaloFake extends ChatPlatformFake {
  constructor(readonly config: ZaloFakeConfig, options: FakeOptions = {}) {
    super(options);
  }

  get apiBase(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected faultable(req: FakeRequest): boolean {
    return req.path === '/v3.0/oa/message/cs';
  }

  protected route(req: FakeRequest): FakeResponse {
    if (header(req.headers, 'access_token') !== this.config.accessToken) {
      return { status: 200, body: { error: -216, message: 'Access token is invalid' } };
    }
    if (req.method === 'GET' && req.path === '/v2.0/oa/getoa') {
      return { status: 200, body: { data: { oa_id: this.config.oaId ?? 'oa-1', name: 'Troupe OA' }, error: 0, message: 'Success' } };
    }
    if (req.method === 'POST' && req.path === '/v3.0/oa/message/cs') {
      const b = req.body as { recipient?: { user_id?: string }; message?: { text?: string } };
      const to = b.recipient?.user_id;
      const text = b.message?.text ?? '';
      if (!to || !text) return { status: 200, body: { error: -201, message: 'Parameters are invalid' } };
      if (text.length > 2000) return { status: 200, body: { error: -201, message: 'Text length exceeds 2000' } };
      const m = this.post(to, text, { id: `zmsg-${++seq}` });
      return { status: 200, body: { data: { message_id: m.id, user_id: to }, error: 0, message: 'Success' } };
    }
    return { status: 404, body: { error: -1, message: 'not found' } };
  }

  /** The event Zalo would POST for one user message (`event`: user_send_text, user_send_image, …). */
  event(from: string, text: string, opts: { id?: string; event?: string } = {}): { body: string; id: string } {
    const id = opts.id ?? `zin-${++seq}`;
    const event = opts.event ?? 'user_send_text';
    const body = {
      app_id: this.config.appId,
      user_id_by_app: `app-${from}`,
      event_name: event,
      timestamp: String(Date.now()),
      sender: { id: from },
      recipient: { id: this.config.oaId ?? 'oa-1' },
      message: event === 'user_send_text' ? { text, msg_id: id } : { msg_id: id, attachments: [{ type: 'image', payload: { url: 'https://example.invalid/a.jpg' } }] },
    };
    return { body: JSON.stringify(body), id };
  }

  sign(rawBody: string): string {
    const ts = String((JSON.parse(rawBody) as { timestamp?: string }).timestamp ?? '');
    return signZalo(this.config.appId, rawBody, ts, this.config.oaSecretKey);
  }

  deliver(webhookUrl: string, rawBody: string, signature = this.sign(rawBody)): Promise<{ status: number; text: string }> {
    return postWebhook(webhookUrl, rawBody, { 'x-zevent-signature': signature });
  }
}

export const ZALO_THROTTLED: FakeResponse = { status: 200, body: { error: -32, message: 'Request rate exceeded' } };
