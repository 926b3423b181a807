/**
 * The signed-in credential and the HTTP calls made with it. The credential (a
 * JWT or an API key) lives in sessionStorage: it is gone when the tab closes,
 * and it is sent only as `Authorization: Bearer` to this origin.
 */

const KEY = 'troupe.credential';

export interface Identity {
  tenant: string;
  user: string;
}

export function credential(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function saveCredential(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetCredential(): void {
  sessionStorage.removeItem(KEY);
}

/** An error answer of the gateway: the catalogue code, its reason and the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

/** Calls the gateway with the credential; resolves with the JSON answer, throws ApiError on an error answer. */
export async function api<T = Json>(method: string, path: string, body?: unknown): Promise<T> {
  const token = credential();
  const res = await fetch(path, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    parsed = { text };
  }
  if (!res.ok) {
    const e = (parsed as { error?: { code?: string; message?: string; reason?: string } }).error ?? {};
    throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, explain(res.status, e.message ?? res.statusText), e.reason);
  }
  return parsed as T;
}

/** Plain text (the Prometheus scrape). */
export async function apiText(path: string): Promise<string> {
  const token = credential();
  const res = await fetch(path, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, explain(res.status, res.statusText));
  return res.text();
}

function explain(status: number, message: string): string {
  if (status === 403) return `${message} (this credential lacks the scope for it)`;
  if (status === 401) return `${message} (sign in again)`;
  return message;
}
