/**
 * The signed-in credential and the HTTP calls made with it. Signing in
 * exchanges what the user pasted (an API key or a JWT) for a short-lived token
 * (POST /admin/v1/token); only that token and its expiry live in
 * sessionStorage, gone when the tab closes, and it is sent only as
 * `Authorization: Bearer` to this origin. The pasted key is never stored.
 */

const KEY = 'troupe.credential';
const EXPIRES = 'troupe.expiresAt';

export interface Identity {
  tenant: string;
  user: string;
}

/** The signed-in token, unless there is none or it has expired. */
export function credential(): string | undefined {
  const token = sessionStorage.getItem(KEY) ?? undefined;
  return token === undefined || expired() ? undefined : token;
}

/** Epoch ms when the signed-in token ends (undefined: not signed in, or not known). */
export function expiresAt(): number | undefined {
  const at = Number(sessionStorage.getItem(EXPIRES) ?? NaN);
  return Number.isFinite(at) ? at : undefined;
}

/** A token was kept and its time is up. */
export function expired(): boolean {
  const at = expiresAt();
  return sessionStorage.getItem(KEY) !== null && at !== undefined && at <= Date.now();
}

export function forgetCredential(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(EXPIRES);
}

/** An API key's shape (security/api_keys.ts); anything else is taken for a JWT. */
const isApiKey = (credential: string): boolean => credential.startsWith('trp_');

/** A JWT's `exp`, in epoch ms, read without checking it (the gateway does that). */
function jwtExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Signs in: the pasted credential buys a short-lived token, which is kept. A
 * gateway that cannot issue tokens (no store, or it verifies with a JWKS)
 * keeps a pasted JWT as it is; an API key then cannot sign in.
 */
export async function exchangeCredential(pasted: string): Promise<{ token: string; expiresAt: number | undefined }> {
  let token: string;
  let until: number | undefined;
  try {
    const issued = await call<{ token: string; expiresAt: string }>(pasted, 'POST', '/admin/v1/token', {});
    token = issued.token;
    until = Date.parse(issued.expiresAt);
  } catch (err) {
    const cannotIssue = err instanceof ApiError && (err.reason === 'no_store' || err.reason === 'no_signing_key');
    if (!cannotIssue) throw err;
    if (isApiKey(pasted)) throw new ApiError(err.status, err.code, `${err.message}: sign in with a token instead of an API key`, err.reason);
    token = pasted;
    until = jwtExpiry(pasted);
  }
  sessionStorage.setItem(KEY, token);
  if (until === undefined) sessionStorage.removeItem(EXPIRES);
  else sessionStorage.setItem(EXPIRES, String(until));
  return { token, expiresAt: until };
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
export function api<T = Json>(method: string, path: string, body?: unknown): Promise<T> {
  return call<T>(credential(), method, path, body);
}

async function call<T>(token: string | undefined, method: string, path: string, body?: unknown): Promise<T> {
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
