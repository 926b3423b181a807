// A fake WhatsApp Cloud API: the Graph endpoints the adapter calls
// (GET /<v>/<phone id>, POST /<v>/<phone id>/messages, Bearer token) and the
// webhooks Meta sends (X-Hub-Signature-256 over the raw body).

import { signWhatsApp } from '../../transports/channels/whatsapp/adapter.js';
import { ChatPlatformFake, header, postWebhook, type FakeRequest, type FakeResponse, type FakeOptions } from './chat_platform.js';

export interface WhatsAppFakeConfig {
  accessToken: string;
  appSecret: string;
  phoneNumberId: string;
  version?: string;
}

export interface WhatsAppInbound {
  from: string;
  text?: string;
  id?: string;
  name?: string;
  /** text (default), image, sticker, audio… */
  type?: string;
}

let wamid = 0;

export class WhatsAppFake extends ChatPlatformFake {
  readonly version: string;
  constructor(readonly config: WhatsAppFakeConfig, options: FakeOptions = {}) {
    super(options);
    this.version = config.version ?? 'v21.0';
  }

  get apiBase(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected faultable(req: FakeRequest): boolean {
    return req.method === 'POST' && req.path.endsWith('/messages');
  }

  protected route(req: FakeRequest): FakeResponse {
    if (header(req.headers, 'authorization') !== `Bearer ${this.config.accessToken}`) {
      return graphError(401, 190, 'Invalid OAuth access token - Cannot parse access token');
    }
    const base = `/${this.version}/${this.config.phoneNumberId}`;
    if (req.method === 'GET' && req.path === base) {
      return { status: 200, body: { id: this.config.phoneNumberId, display_phone_number: '15550001111' } };
    }
    if (req.method === 'POST' && req.path === `${base}/messages`) {
      const b = req.body as { messaging_product?: string; to?: string; type?: string; text?: { body?: string }; context?: { message_id?: string } };
      const text = b.text?.body ?? '';
      if (b.messaging_product !== 'whatsapp' || b.type !== 'text' || !b.to || !text) {
        return graphError(400, 100, 'Invalid parameter');
      }
      if (text.length > 4096) return graphError(400, 100, 'Param text[\'body\'] must be at most 4096 characters long.');
      const m = this.post(b.to, text, { id: `wamid.${++wamid}`, replyTo: b.context?.message_id });
      return { status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: b.to, wa_id: b.to }], messages: [{ id: m.id }] } };
    }
    return graphError(404, 803, 'Unknown path');
  }

  /** The notification Meta would POST for one inbound message. */
  notification(msg: WhatsAppInbound): { body: string; id: string } {
    const id = msg.id ?? `wamid.in.${++wamid}`;
    const type = msg.type ?? 'text';
    const message: Record<string, unknown> = { from: msg.from, id, timestamp: String(Math.floor(Date.now() / 1000)), type };
    if (type === 'text') message.text = { body: msg.text ?? '' };
    else message[type] = { id: `media-${id}`, mime_type: 'application/octet-stream' };
    const body = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'WABA-1',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550001111', phone_number_id: this.config.phoneNumberId },
                contacts: [{ profile: { name: msg.name ?? 'Tester' }, wa_id: msg.from }],
                messages: [message],
              },
            },
          ],
        },
      ],
    };
    return { body: JSON.stringify(body), id };
  }

  /** Signs and POSTs a raw body as Meta would. */
  deliver(webhookUrl: string, rawBody: string, signature = signWhatsApp(this.config.appSecret, rawBody)): Promise<{ status: number; text: string }> {
    return postWebhook(webhookUrl, rawBody, { 'x-hub-signature-256': signature });
  }
}

function graphError(status: number, code: number, message: string): FakeResponse {
  return { status, body: { error: { message, type: 'OAuthException', code, fbtrace_id: 'fake' } } };
}

/** The throttling answer Graph gives when a number sends too fast. */
export const WHATSAPP_THROTTLED: FakeResponse = {
  status: 429,
  headers: { 'retry-after': '1' },
  body: { error: { message: '(#130429) Rate limit hit', type: 'OAuthException', code: 130429, fbtrace_id: 'fake' } },
};
