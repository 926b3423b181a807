/**
 * Small wire helpers shared by the adapters that speak plain HTTP + JSON
 * (WhatsApp, Zalo, Feishu): body parsing that maps to 400, constant-time
 * digest comparison, and one `fetch` call that turns every failure into a
 * `ChannelSendError` the framework can retry or give up on.
 */
import { timingSafeEqual } from 'node:crypto';
import { ChannelSendError, WebhookRejected } from './adapter.js';

/** Parses a webhook body as a JSON object; anything else is `400 malformed`. */
export function parseJsonObject(raw: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new WebhookRejected(400, 'malformed', 'body is not JSON');
  }
  if (!isRecord(value)) throw new WebhookRejected(400, 'malformed', 'body is not a JSON object');
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value[key]` when it is a string, else ''. */
export function str(value: unknown, key: string): string {
  if (!isRecord(value)) return '';
  const v = value[key];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/** `value[key]` when it is an object, else undefined. */
export function obj(value: unknown, key: string): Record<string, unknown> | undefined {
  if (!isRecord(value)) return undefined;
  const v = value[key];
  return isRecord(v) ? v : undefined;
}

/** `value[key]` when it is an array, else []. */
export function arr(value: unknown, key: string): unknown[] {
  if (!isRecord(value)) return [];
  const v = value[key];
  return Array.isArray(v) ? v : [];
}

/** Compares two hex digests in constant time (case-insensitive). */
export function digestEquals(expectedHex: string, givenHex: string): boolean {
  const a = Buffer.from(expectedHex.toLowerCase(), 'utf8');
  const b = Buffer.from(givenHex.trim().toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `Retry-After` (seconds) as milliseconds. */
export function retryAfterHeader(headers: Headers): number | undefined {
  const v = Number(headers.get('retry-after'));
  return Number.isFinite(v) && v > 0 ? Math.ceil(v * 1000) : undefined;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * One HTTP call with a JSON body and a timeout. A network failure or timeout is
 * a `ChannelSendError` with status 0 (retryable); the caller maps the answer.
 */
export async function callJson(
  url: string,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: unknown },
  timeoutMs: number,
): Promise<JsonResponse> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method,
      headers: init.body === undefined ? init.headers : { 'content-type': 'application/json', ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ChannelSendError(`no answer: ${(err as Error).message}`, 0);
  }
  const text = await res.text().catch(() => '');
  return { status: res.status, headers: res.headers, body: parseLenient(text) };
}

function parseLenient(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Joins an API root and a path without doubling or dropping the slash. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}
