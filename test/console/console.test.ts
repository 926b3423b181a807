// The web console at /console, driven in a real headless Chromium (Debian's,
// through playwright-core) against an in-process gateway on embedded PGlite:
// sign in, chat and watch the reply stream with its tool calls, tokens and
// latency, create and revoke an API key, and visit every page. Screenshots go
// to artifacts/console/ (gitignored). Without Chromium the suite skips, except
// under CI=true, where .ci/run installs it and a missing browser is a failure.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { loadConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { signToken } from '../../security/jwt.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import { binOf } from '../tools/mcp_servers.js';
import { launch, needsChromium, type Browser, type Page } from './browser.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const TENANT = 'acme';
const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/console/', import.meta.url));

interface Harness {
  gw: RunningGateway;
  fake: OpenAIUpstream;
  browser: Browser;
  page: Page;
  /** A JWT for tenant acme with chat and admin. */
  admin: string;
  /** Console messages of type error, and CSP refusals. */
  problems: string[];
}

async function harness(t: Test): Promise<Harness> {
  const fake = new OpenAIUpstream();
  await fake.start();
  t.teardown(() => fake.close());
  const dir = mkdtempSync(join(tmpdir(), 'troupe-console-'));
  const file = join(dir, 'troupe.json');
  writeFileSync(file, JSON.stringify({
    agents: [
      // One token every 25 ms: the reply visibly streams.
      { id: 'echo', description: 'simulated, streams slowly', model: 'sim-1', provider: { kind: 'simulated', tokens: 12, latencyMs: 25 } },
      { id: 'helper', description: 'calls tools', model: 'fake-model', provider: { kind: 'openai', apiKey: 'sk-test', baseURL: `${fake.url}/v1` } },
    ],
  }));
  const gw = await startGateway(loadConfig({ TROUPE_DATA_DIR: join(dir, 'data'), TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET }, file));
  t.teardown(() => gw.shutdown());
  const platform = await signToken({ secret: SECRET, tenant: 'ops', user: 'root', scopes: ['platform'], ttlSec: 600 });
  const made = await fetch(`${gw.url}/admin/v1/tenants`, {
    method: 'POST', headers: { authorization: `Bearer ${platform}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: TENANT, name: 'Acme' }),
  });
  if (made.status !== 201) throw new Error(`creating the tenant answered ${made.status}: ${await made.text()}`);
  const admin = await signToken({ secret: SECRET, tenant: TENANT, user: 'alice', scopes: ['chat', 'admin'], ttlSec: 600 });

  const browser = await launch();
  t.teardown(() => browser.close());
  const page = browser.pages()[0] ?? await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  mkdirSync(ARTIFACTS, { recursive: true });
  return { gw, fake, browser, page, admin, problems };
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

async function signIn(h: Harness, credential: string): Promise<void> {
  await h.page.goto(`${h.gw.url}/console`);
  await h.page.fill('#signin-token', credential);
  await h.page.click('#signin-go');
  await h.page.waitForSelector('#who');
}

/**
 * Sends `text` to `agent` in the playground and waits for the run's last event.
 * A MutationObserver in the page keeps each text the reply showed before its
 * run ended: more than one distinct text means the reply streamed in.
 */
async function chat(page: Page, agent: string, text: string): Promise<{ reply: string; meta: string; partials: string[] }> {
  await page.selectOption('#chat-agent', agent);
  await page.fill('#chat-message', text);
  const turns = await page.locator('.turn').count();
  // A string, not a function: the test is compiled without the DOM's types.
  await page.evaluate(`(() => {
    const seen = window.__partials = [];
    new MutationObserver(() => {
      const turn = document.querySelectorAll('.turn')[${turns}];
      if (turn === undefined || turn.querySelector('.meta.done') !== null) return;
      const now = turn.querySelector('.reply').textContent;
      if (now !== '' && seen[seen.length - 1] !== now) seen.push(now);
    }).observe(document.getElementById('chat-transcript'), { subtree: true, childList: true, characterData: true });
  })()`);
  await page.click('#chat-send');
  const turn = page.locator('.turn').nth(turns);
  await turn.locator('.meta.done').waitFor({ timeout: 30_000 });
  return {
    reply: (await turn.locator('.reply').textContent()) ?? '',
    meta: (await turn.locator('.meta').textContent()) ?? '',
    partials: await page.evaluate<string[]>('window.__partials'),
  };
}

/** What the same agent answers over the OpenAI-compatible API (the simulated provider is deterministic). */
async function answerOf(h: Harness, agent: string, text: string): Promise<string> {
  const res = await fetch(`${h.gw.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${h.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: agent, messages: [{ role: 'user', content: text }] }),
  });
  return ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content;
}

t.test('the console in a browser', { skip: needsChromium() }, async (t) => {
  const h = await harness(t);

  t.test('its files are public and carry a strict Content-Security-Policy; anything else under /console is a 404', async (t) => {
    t.same(h.gw.frontDoor.served.filter((k) => k.includes(' /console')), ['GET /console', 'GET /console/:file'], 'the console\'s entries of the access table are served');
    const page = await fetch(`${h.gw.url}/console`);
    t.equal(page.status, 200);
    t.match(page.headers.get('content-type'), /^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    t.match(csp, /default-src 'none'/);
    t.match(csp, /script-src 'self'(;|$)/, 'scripts only from the gateway: no inline script, no eval');
    t.notMatch(csp, /unsafe-inline|unsafe-eval/);
    t.match(csp, /frame-ancestors 'none'/);
    t.equal(page.headers.get('x-content-type-options'), 'nosniff');
    t.notMatch(await page.text(), /<script>|<script [^>]*>[^<]/, 'no inline script in the page');
    const js = await fetch(`${h.gw.url}/console/app.js`);
    t.equal(js.status, 200);
    t.match(js.headers.get('content-type'), /^text\/javascript/);
    t.equal((await fetch(`${h.gw.url}/console/nothing.js`)).status, 404);
    t.equal((await fetch(`${h.gw.url}/console/%2e%2e%2fpackage.json`)).status, 404, 'no way out of the folder');
  });

  t.test('a wrong credential is refused at sign-in, and nothing is stored', async (t) => {
    await h.page.goto(`${h.gw.url}/console`);
    await h.page.fill('#signin-token', 'not-a-token');
    await h.page.click('#signin-go');
    await h.page.waitForSelector('.notice.error');
    t.match(await h.page.textContent('.notice.error'), /Sign-in failed: UNAUTHORIZED/);
    t.equal(await h.page.evaluate('sessionStorage.getItem("troupe.credential")'), null);
  });

  t.test('signed in with a token, a chat reply streams in with its tokens and latency', async (t) => {
    await signIn(h, h.admin);
    t.equal(await h.page.textContent('#who'), 'alice @ acme');
    await h.page.waitForSelector('#chat-agent option[value="echo"]', { state: 'attached' });
    const turn = await chat(h.page, 'echo', 'hello from the browser');
    t.ok(turn.partials.length > 1, `the reply grew piece by piece before the run ended (${turn.partials.length} texts)`);
    t.ok(turn.partials.every((p) => turn.reply.startsWith(p)), 'each piece extended the one before');
    t.equal(turn.reply, await answerOf(h, 'echo', 'hello from the browser'), 'the whole reply, as the agent gives it');
    t.match(turn.meta, /\d+ in \/ 12 out tokens · first token \d+ ms · total \d+ ms · simulated\/sim-1 · stop/);
    await shot(h.page, 'chat');
  });

  t.test('tool calls show in the playground as they start and end', async (t) => {
    h.fake.script({ toolCalls: [{ id: 'c1', name: 'datetime', arguments: {} }] }, { text: 'It is later than you think.' });
    const turn = await chat(h.page, 'helper', 'what time is it?');
    t.equal(turn.reply, 'It is later than you think.');
    const tool = h.page.locator('.turn').last().locator('.tool');
    t.equal(await tool.count(), 1);
    t.match(await tool.getAttribute('class'), /\bok\b/);
    t.match(await tool.textContent(), /^datetime .* → .+/);
    await shot(h.page, 'chat-tools');
  });

  t.test('an agent edited in the console is saved; a bad edit is refused with the field at fault', async (t) => {
    await h.page.click('a[data-page="agents"]');
    await h.page.click('button[data-agent="echo"]');
    const json = h.page.locator('#agent-json');
    const definition = JSON.parse(await json.inputValue()) as { description: string; provider: { kind: string; tokens: number } };
    t.match(definition, { description: 'simulated, streams slowly', provider: { kind: 'simulated', tokens: 12 } });
    await json.fill(JSON.stringify({ ...definition, provider: { ...definition.provider, tokens: 'many' } }));
    await h.page.click('#agent-save');
    await h.page.waitForSelector('#agent-result .notice.error');
    t.match(await h.page.textContent('#agent-result'), /provider/, 'the answer names the field at fault');
    await json.fill(JSON.stringify({ ...definition, description: 'edited in the browser', provider: { ...definition.provider, tokens: 5 } }, null, 2));
    await h.page.click('#agent-save');
    await h.page.waitForSelector('#agent-result .notice.ok');
    await shot(h.page, 'agents');
    const saved = await fetch(`${h.gw.url}/admin/v1/agents/echo`, { headers: { authorization: `Bearer ${h.admin}` } }).then((r) => r.json());
    t.match(saved, { description: 'edited in the browser', provider: { kind: 'simulated', tokens: 5, latencyMs: 25 } }, 'the store has the new definition');
  });

  t.test('the next chat follows the edited agent, without a restart', async (t) => {
    await h.page.click('a[data-page="chat"]');
    await h.page.waitForSelector('#chat-agent option[value="echo"]', { state: 'attached' });
    t.equal(await h.page.textContent('#chat-agent option[value="echo"]'), 'echo — edited in the browser', 'the agent list shows the new description');
    const turn = await chat(h.page, 'echo', 'and now?');
    t.match(turn.meta, / 5 out tokens /, 'five tokens, as the new definition says');
    t.equal(turn.reply.split(' ').length, 5);
    t.equal(turn.reply, await answerOf(h, 'echo', 'and now?'));
  });

  t.test('an API key is shown once when created, works, and stops working when revoked', async (t) => {
    await h.page.click('a[data-page="keys"]');
    await h.page.fill('#key-name', 'browser-made');
    await h.page.click('#key-create');
    const key = (await h.page.locator('#key-secret').textContent()) ?? '';
    t.match(key, /^\S{20,}$/);
    const withKey = () => fetch(`${h.gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
    t.equal(await withKey(), 200, 'the new key chats');
    const row = h.page.locator('tr', { hasText: 'browser-made' });
    await row.waitFor();
    await shot(h.page, 'keys');
    await h.page.reload();
    await row.waitFor();
    t.equal(await h.page.locator('#key-secret').count(), 0, 'the key is not shown again');
    t.notMatch(await h.page.textContent('body'), key, 'nor anywhere on the page');
    await row.locator('button.danger').click();
    await row.locator('button.danger', { hasText: 'Confirm revoke' }).click();
    await row.getByText(/^revoked /).waitFor();
    t.equal(await withKey(), 401, 'the revoked key is refused');
  });

  t.test('a provider made in the console keeps its key to itself, and serves the agent that names it in the next chat', async (t) => {
    await h.page.click('a[data-page="providers"]');
    await h.page.click('#provider-new');
    await h.page.fill('#provider-id', 'sim-fast');
    await h.page.locator('#provider-json').fill(JSON.stringify({ config: { kind: 'simulated', tokens: 3 } }));
    await h.page.fill('#provider-key', 'sk-console-secret-123');
    await h.page.click('#provider-save');
    await h.page.waitForSelector('#provider-result .notice.ok');
    const row = h.page.locator('#provider-list tr', { hasText: 'sim-fast' });
    t.match(await row.textContent(), /simulated.*stored/, 'listed with a stored key');
    await h.page.reload();
    await row.waitFor();
    t.notMatch(await h.page.textContent('body'), /sk-console-secret-123/, 'the key is never shown');
    await shot(h.page, 'providers');
    await h.page.click('a[data-page="agents"]');
    await h.page.click('button[data-agent="echo"]');
    const json = h.page.locator('#agent-json');
    const { model: _m, provider: _p, ...rest } = JSON.parse(await json.inputValue()) as Record<string, unknown>;
    await json.fill(JSON.stringify({ ...rest, chain: [{ providerId: 'sim-fast', model: 'sim-fast-1' }] }));
    await h.page.click('#agent-save');
    await h.page.waitForSelector('#agent-result .notice.ok');
    await h.page.click('a[data-page="chat"]');
    await h.page.waitForSelector('#chat-agent option[value="echo"]', { state: 'attached' });
    const turn = await chat(h.page, 'echo', 'through the new provider');
    t.match(turn.meta, / 3 out tokens .*sim-fast-1/, 'three tokens from the console-made provider');
  });

  t.test('an MCP server made in the console keeps its values sealed; edits keep them, a field taken out is removed; delete removes it', async (t) => {
    const server = async (): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${h.gw.url}/admin/v1/mcp-servers/everything`, { headers: { authorization: `Bearer ${h.admin}` } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const args = [binOf('@modelcontextprotocol/server-everything'), 'stdio'];
    await h.page.click('a[data-page="mcp"]');
    await h.page.getByText('No MCP servers in this tenant').waitFor();
    await h.page.click('#mcp-new');
    await h.page.fill('#mcp-id', 'everything');
    await h.page.locator('#mcp-json').fill(JSON.stringify({ command: process.execPath, args }));
    await h.page.fill('#mcp-values', 'EVERYTHING_TOKEN=console-sealed-value-42\nOTHER=x');
    await h.page.click('#mcp-save');
    await h.page.waitForSelector('#mcp-result .notice.ok');
    const row = h.page.locator('#mcp-list tr', { hasText: 'everything' });
    t.match(await row.textContent(), /server-everything.*stdio.*EVERYTHING_TOKEN, OTHER/, 'listed with what it runs and its sealed names');
    t.match(await server(), { status: 200, body: { command: process.execPath, args, envNames: ['EVERYTHING_TOKEN', 'OTHER'] } });
    await h.page.reload();
    await row.waitFor();
    t.notMatch(await h.page.textContent('body'), /console-sealed-value-42/, 'a value is never shown');
    await shot(h.page, 'mcp');

    // An edit with the values left blank keeps them sealed.
    await h.page.click('button[data-mcp="everything"]');
    await h.page.locator('#mcp-json').fill(JSON.stringify({ command: process.execPath, args, cwd: tmpdir() }));
    await h.page.click('#mcp-save');
    await h.page.waitForSelector('#mcp-result .notice.ok');
    t.match(await server(), { status: 200, body: { cwd: tmpdir(), envNames: ['EVERYTHING_TOKEN', 'OTHER'] } }, 'cwd set, the values kept');
    // Taking a field out of the JSON removes it; new values replace the old ones.
    await h.page.locator('#mcp-json').fill(JSON.stringify({ command: process.execPath, args }));
    await h.page.fill('#mcp-values', 'EVERYTHING_TOKEN=rotated');
    await h.page.click('#mcp-save');
    await h.page.waitForSelector('#mcp-result .notice.ok');
    const edited = await server();
    t.notOk('cwd' in edited.body, 'cwd removed');
    t.same(edited.body.envNames, ['EVERYTHING_TOKEN'], 'the values replaced');

    await h.page.click('#mcp-delete');
    await h.page.click('#mcp-delete');
    await h.page.getByText('Deleted everything.').waitFor();
    t.equal((await server()).status, 404, 'deleted');
  });

  t.test('a credential without a page\'s scope gets that page\'s refusal, explained, and the rest of the console still works', async (t) => {
    const chatOnly = await signToken({ secret: SECRET, tenant: TENANT, user: 'bob', scopes: ['chat'], ttlSec: 600 });
    await h.page.click('#signout');
    await signIn(h, chatOnly);
    await h.page.click('a[data-page="keys"]');
    await h.page.waitForSelector('#key-list .notice.error');
    t.match(await h.page.textContent('#key-list'), /needs the "admin" scope \(this credential lacks the scope for it\)/);
    await h.page.click('a[data-page="chat"]');
    await h.page.waitForSelector('#chat-agent option[value="echo"]', { state: 'attached' });
    t.equal(await h.page.locator('#chat-send').getAttribute('disabled'), null, 'chat is open to it');
    await h.page.click('#signout');
    await signIn(h, h.admin);
  });

  t.test('signing in with an API key works as with a token', async (t) => {
    const res = await fetch(`${h.gw.url}/admin/v1/api-keys`, {
      method: 'POST', headers: { authorization: `Bearer ${h.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'console-login', scopes: ['chat', 'admin'] }),
    });
    const { key } = (await res.json()) as { key: string };
    await h.page.click('#signout');
    await h.page.waitForSelector('#signin-token');
    t.equal(await h.page.evaluate('sessionStorage.getItem("troupe.credential")'), null, 'signing out forgets the credential');
    await signIn(h, key);
    t.match(await h.page.textContent('#who'), /^key:\S+ @ acme$/, 'a key made without a user acts as itself');
    const stored = await h.page.evaluate<Record<string, string>>('Object.fromEntries(Object.entries(sessionStorage))');
    t.notMatch(JSON.stringify(stored), key, 'the API key is nowhere in sessionStorage');
    t.notMatch(JSON.stringify(stored), /trp_/, 'nor any API key');
    const jwt = stored['troupe.credential'];
    t.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the console keeps a JWT');
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as { tenant: string; scope: string; exp: number; iat: number };
    t.match(claims, { tenant: TENANT, scope: 'chat admin' }, 'with the key\'s tenant and scopes');
    t.ok(claims.exp - claims.iat <= 3600, `short-lived (${claims.exp - claims.iat} s)`);
    t.equal(Number(stored['troupe.expiresAt']), claims.exp * 1000, 'and its end');
    await h.page.click('a[data-page="keys"]');
    await h.page.locator('#key-list tr', { hasText: 'console-login' }).waitFor();
    t.pass('the admin pages work with the token');
  });

  t.test('when the token expires, the console returns to sign-in and says so', async (t) => {
    await h.page.evaluate('sessionStorage.setItem("troupe.expiresAt", String(Date.now() + 2000))');
    await h.page.reload();
    await h.page.waitForSelector('#who');
    await h.page.waitForSelector('#signin-token', { timeout: 20_000 });
    t.match(await h.page.textContent('.notice.error'), /Your session expired: sign in again/);
    t.equal(await h.page.evaluate('sessionStorage.getItem("troupe.credential")'), null, 'the expired token is forgotten');
    await shot(h.page, 'signin-expired');
    await h.page.evaluate('sessionStorage.setItem("troupe.credential", "x.y.z"); sessionStorage.setItem("troupe.expiresAt", "1")');
    await h.page.reload();
    await h.page.waitForSelector('#signin-token');
    t.match(await h.page.textContent('.notice.error'), /Your session expired/, 'also when the tab opens after the end');
    await signIn(h, h.admin);
  });

  t.test('usage shows a bar per day with today\'s tokens', async (t) => {
    await h.gw.store?.flush(30_000);
    await h.page.click('a[data-page="usage"]');
    await h.page.waitForSelector('#usage-chart svg');
    t.equal(await h.page.locator('#usage-chart .bar').count(), 30, 'thirty days');
    t.match(await h.page.locator('#usage-chart .bar title').last().textContent(), /: [1-9]\d* runs, [1-9]\d* in \/ [1-9]\d* out tokens/, 'today has the runs of this test');
    t.ok(await h.page.locator('td', { hasText: 'sim-1' }).count() > 0, 'the by-model table names the model');
    await shot(h.page, 'usage');
  });

  t.test('the audit log lists the key changes, and its chain verifies', async (t) => {
    await h.gw.store?.flush(30_000);
    await h.page.click('a[data-page="audit"]');
    await h.page.locator('#audit-rows td', { hasText: 'admin.key.revoke' }).first().waitFor();
    await h.page.click('#audit-verify');
    await h.page.waitForSelector('.notice.ok');
    t.match(await h.page.textContent('.notice.ok'), /The chain is intact: \d+ records checked/);
    await shot(h.page, 'audit');
  });

  t.test('channels and live pages render for the tenant', async (t) => {
    await h.page.click('a[data-page="channels"]');
    await h.page.getByText('No channels for this tenant').waitFor();
    await h.page.click('a[data-page="live"]');
    await h.page.waitForSelector('#live-runs .value');
    await h.page.locator('#live-metrics .tile').first().waitFor();
    t.equal(await h.page.locator('#live-metrics .tile').count(), 8);
    await shot(h.page, 'live');
  });

  t.test('nothing was refused by the Content-Security-Policy, and no script failed', async (t) => {
    // The refusals the tests asked for (a bad edit, a wrong credential) are logged by Chromium as failed loads: those only.
    t.same(h.problems.filter((p) => !/^Failed to load resource: the server responded with a status of 4\d\d/.test(p)), []);
  });
});
