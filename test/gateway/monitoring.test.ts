import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { signToken } from '../../security/jwt.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const docs = (name: string) => fileURLToPath(new URL(`../../../docs/monitoring/${name}`, import.meta.url));
const RULES = docs('troupe-alerts.yml');
const DASHBOARD = docs('troupe-dashboard.json');

/**
 * Metrics that rules may name before the part of Troupe that exports them has
 * landed; each is checked as soon as /metrics declares it.
 */
const NOT_YET_EXPORTED = new Set(['troupe_channel_messages_total']);

/** promtool from PATH; under CI=true it must be there (.ci/run installs it). */
function promtool(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, 'promtool');
    if (dir !== '' && existsSync(p)) return p;
  }
  if (process.env.CI === 'true') throw new Error('promtool is not installed, and under CI=true it is required');
  return undefined;
}

async function gatewayAfterOneTurn(): Promise<{ gw: RunningGateway; scrape: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-mon-'));
  const base = loadConfig({
    TROUPE_DATA_DIR: dataDir, TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET, TROUPE_STORE: 'none',
    // Tracing on (towards a port nothing listens on), so its metrics are in the scrape promtool checks.
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_TIMEOUT: '200',
  });
  const gw = await startGateway({ ...base, 
    // A chain through a provider actor, so the provider metrics are registered too.
    providers: [{ id: 'sim', config: { kind: 'simulated', tokens: 4 } }],
    agents: [{ id: 'fast', chain: [{ providerId: 'sim', model: 'sim' }] }],
  });
  const token = await signToken({ secret: SECRET, tenant: 'acme', user: 'alice', scopes: ['chat'], ttlSec: 600 });
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }),
  });
  if (res.status !== 200) throw new Error(`completion failed: ${res.status} ${await res.text()}`);
  const scrape = await (await fetch(`${gw.url}/metrics`)).text();
  return { gw, scrape };
}

/** The metric families /metrics declares (`# TYPE name kind`). */
function declaredFamilies(scrape: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1] as string, m[2] as string);
  return out;
}

/** True when `name` is a declared family or one of a histogram's or summary's series. */
function exported(families: Map<string, string>, name: string): boolean {
  if (families.has(name)) return true;
  const base = name.replace(/_(bucket|count|sum)$/, '');
  const kind = families.get(base);
  return kind === 'histogram' || kind === 'summary';
}

const namesIn = (text: string): string[] => [...new Set(text.match(/\btroupe_[a-zA-Z0-9_]+/g) ?? [])];

t.test('monitoring', async (t) => {
  const { gw, scrape } = await gatewayAfterOneTurn();
  t.teardown(() => gw.shutdown());
  const families = declaredFamilies(scrape);

  t.test('no gauge is named like a counter', async (t) => {
    for (const [name, kind] of families) {
      if (kind !== 'counter') t.notMatch(name, /_total$/, `${name} is a ${kind}`);
    }
  });

  t.test('every metric the alert rules and the dashboard use is exported', async (t) => {
    const rules = readFileSync(RULES, 'utf8');
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((x) => x.expr)).join('\n');
    const names = namesIn(rules + '\n' + exprs);
    t.ok(names.length > 10, 'the files name metrics');
    for (const name of names) {
      if (NOT_YET_EXPORTED.has(name) && !exported(families, name)) continue;
      t.ok(exported(families, name), `${name} is exported`);
    }
  });

  const bin = promtool();
  const skip = bin === undefined ? 'needs promtool (apt-get install prometheus)' : false;
  t.test('promtool check metrics finds nothing in a live scrape', { skip }, async (t) => {
    const r = spawnSync(bin as string, ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
    t.equal(r.status, 0, 'exit 0');
    t.equal((r.stdout + r.stderr).trim(), '', 'no findings');
  });

  t.test('promtool check rules accepts the alert rules', { skip }, async (t) => {
    const r = spawnSync(bin as string, ['check', 'rules', RULES], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stdout + r.stderr);
  });
});
