// Agents in the config file: a chain of the gateway's providers or a direct
// provider + model; mistakes are refused when the config loads, naming the agent.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../../gateway/config.js';

function load(file: Record<string, unknown>): ReturnType<typeof loadConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-config-agents-'));
  const path = join(dir, 'troupe.json');
  writeFileSync(path, JSON.stringify(file));
  return loadConfig({ TROUPE_DATA_DIR: dir, TROUPE_JWT_SECRET: 'a-test-secret-that-is-long-enough-for-hs256' }, path);
}

const providers = [{ id: 'main', config: { kind: 'openai', apiKey: 'sk-x', baseURL: 'http://127.0.0.1:9/v1' } }];

t.test('an agent with a chain needs neither model nor provider', async (t) => {
  const config = load({ providers, agents: [{ id: 'a', chain: [{ providerId: 'main', model: 'gpt-x' }] }] });
  t.same(config.agents[0].chain, [{ providerId: 'main', model: 'gpt-x' }]);
  t.equal(config.agents[0].provider, undefined);
});

t.test('a direct agent needs model and provider.kind', async (t) => {
  t.equal(load({ agents: [{ id: 'd', model: 'm', provider: { kind: 'simulated' } }] }).agents[0].model, 'm');
  t.throws(() => load({ agents: [{ id: 'd', provider: { kind: 'simulated' } }] }), /agent d needs a "chain", or "model" and "provider.kind"/);
  t.throws(() => load({ agents: [{ id: 'd', model: 'm' }] }), ConfigError);
});

t.test('chain mistakes are refused at load, naming the agent and the entry', async (t) => {
  t.throws(() => load({ providers, agents: [{ id: 'c', chain: [] }] }), /agents\[0\]\.chain: .*>=1 items/);
  t.throws(() => load({ providers, agents: [{ id: 'c', chain: [{ providerId: 'main' }] }] }), /agents\[0\]\.chain\[0\]\.model: .*expected string/);
  t.throws(
    () => load({ providers, agents: [{ id: 'c', chain: [{ providerId: 'main', model: 'x' }, { providerId: 'nope', model: 'y' }] }] }),
    /agent c: chain\[1\] names provider "nope", which is not in "providers" \(known: main\)/,
  );
  t.throws(() => load({ agents: [{ id: 'c', chain: [{ providerId: 'main', model: 'x' }] }] }), /known: none/);
});

t.test('metricsToken: from TROUPE_METRICS_TOKEN or the file, checked for length', async (t) => {
  t.equal(load({ metricsToken: 'a-long-enough-metrics-token' }).metricsToken, 'a-long-enough-metrics-token');
  t.equal(load({}).metricsToken, undefined, 'absent: /metrics stays open');
  t.throws(() => load({ metricsToken: 'short' }), /metricsToken \(TROUPE_METRICS_TOKEN\) must be 16 to 1024 characters/);
});
