/**
 * The console's shell: sign-in, the navigation and the hash router (`#/chat`,
 * `#/keys`, ...). Signing in exchanges the pasted API key or token for a
 * short-lived token (api.ts), opens the WebSocket with it, and keeps only that
 * token. When it expires the console goes back to sign-in and says why.
 */
import { ApiError, credential, expired, expiresAt, forgetCredential, exchangeCredential, type Identity } from './api.js';
import { agentsPage } from './agents.js';
import { auditPage } from './audit.js';
import { channelsPage } from './channels.js';
import { chatPage } from './chat.js';
import { errorText, fill, h, notice } from './dom.js';
import { keysPage } from './keys.js';
import { livePage } from './live.js';
import { mcpPage } from './mcp.js';
import type { Page, PageContext } from './page.js';
import { providersPage } from './providers.js';
import { Rpc } from './rpc.js';
import { usagePage } from './usage.js';

const PAGES: Page[] = [chatPage, agentsPage, providersPage, mcpPage, keysPage, channelsPage, usagePage, auditPage, livePage];

const app = document.getElementById('app') as HTMLElement;
let rpc: Promise<Rpc> | undefined;
const leaving: (() => void)[] = [];
let expiry: number | undefined;

const EXPIRED = 'Your session expired: sign in again.';

function signOut(message?: string): void {
  clearTimeout(expiry);
  forgetCredential();
  void rpc?.then((r) => r.close(), () => undefined);
  rpc = undefined;
  location.hash = '';
  signIn(message);
}

/** Back to sign-in when the token's time is up (the gateway would refuse it from then on). */
function watchExpiry(): void {
  clearTimeout(expiry);
  const at = expiresAt();
  if (at === undefined) return;
  // setTimeout holds at most 2^31-1 ms: a later end is checked again then.
  expiry = setTimeout(() => (expired() ? signOut(EXPIRED) : watchExpiry()), Math.min(Math.max(0, at - Date.now()) + 250, 2 ** 31 - 1));
}

function failure(err: unknown): string {
  return err instanceof ApiError ? `${err.code}: ${err.message}` : errorText(err);
}

function connection(): Promise<Rpc> {
  const token = credential();
  if (token === undefined) return Promise.reject(new Error('not signed in'));
  const open = rpc;
  if (open !== undefined) {
    return open.then((r) => (r.open ? r : reconnect(token)), () => reconnect(token));
  }
  return reconnect(token);
}

function reconnect(token: string): Promise<Rpc> {
  rpc = Rpc.open(token).then((r) => r.rpc);
  return rpc;
}

function signIn(message?: string): void {
  for (const fn of leaving.splice(0)) fn();
  const token = h('input', { id: 'signin-token', type: 'password', 'aria-label': 'Token or API key', autocomplete: 'off', required: true,
    placeholder: 'an API key (trp_…) or a token (troupe token)' });
  const go = h('button', { type: 'submit', id: 'signin-go' }, 'Sign in');
  const out = h('div', {}, message === undefined ? null : notice('error', message));
  const form = h('form', { class: 'card signin' },
    h('h1', {}, 'Troupe console'),
    h('p', { class: 'muted' }, 'Sign in with an API key or a token. The console keeps only a short-lived token made from it, in this tab (sessionStorage).'),
    token, go, out);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    go.disabled = true;
    exchangeCredential(token.value.trim()).then((issued) => Rpc.open(issued.token)).then(
      ({ rpc: r, tenant, user }) => {
        rpc = Promise.resolve(r);
        watchExpiry();
        shell({ tenant, user });
      },
      (err: unknown) => {
        forgetCredential();
        go.disabled = false;
        fill(out, notice('error', `Sign-in failed: ${failure(err)}`));
      },
    );
  });
  fill(app, form);
  token.focus();
}

function shell(identity: Identity): void {
  const nav = h('nav', {}, ...PAGES.map((p) => h('a', { href: `#/${p.id}`, 'data-page': p.id }, p.title)));
  const out = h('button', { type: 'button', class: 'secondary', id: 'signout' }, 'Sign out');
  out.addEventListener('click', () => signOut());
  const main = h('main', { id: 'page' });
  fill(app,
    h('header', {}, h('strong', { class: 'brand' }, 'Troupe'), nav,
      h('span', { class: 'who', id: 'who' }, `${identity.user} @ ${identity.tenant}`), out),
    main);
  const show = (): void => {
    for (const fn of leaving.splice(0)) fn();
    const id = location.hash.replace(/^#\/?/, '') || 'chat';
    const page = PAGES.find((p) => p.id === id) ?? PAGES[0];
    for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.page === page.id);
    document.title = `${page.title} · Troupe`;
    const root = h('div', { class: `page page-${page.id}` });
    fill(main, root);
    const ctx: PageContext = {
      identity,
      rpc: connection,
      every(ms, fn) {
        const timer = setInterval(fn, ms);
        leaving.push(() => clearInterval(timer));
      },
      onLeave(fn) {
        leaving.push(fn);
      },
    };
    Promise.resolve(page.render(root, ctx)).catch((err: unknown) => fill(root, notice('error', errorText(err))));
  };
  window.onhashchange = show;
  show();
}

async function start(): Promise<void> {
  if (expired()) return signOut(EXPIRED);
  const token = credential();
  if (token === undefined) return signIn();
  try {
    const opened = Rpc.open(token);
    rpc = opened.then((r) => r.rpc);
    const { tenant, user } = await opened;
    watchExpiry();
    shell({ tenant, user });
  } catch (err) {
    forgetCredential();
    rpc = undefined;
    signIn(`Your session ended: ${errorText(err)}`);
  }
}

void start();
