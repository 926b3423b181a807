// One /admin/v1 call over real HTTP, shared by the admin API tests.
import type { RunningGateway } from '../../gateway/gateway.js';

export type Json = Record<string, unknown>;

export interface Answer {
  status: number;
  body: Json;
  /** The raw answer (to check that no secret appears anywhere in it). */
  text: string;
}

/** `body` is sent as JSON (a string as is); the answer is parsed, `{}` when empty. */
export async function adminCall(gw: RunningGateway, method: string, path: string, bearer: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${gw.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Json), text };
}
