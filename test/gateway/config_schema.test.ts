// The config file and the environment are checked against one strict schema:
// an unknown key or a wrong type stops the start, naming the key and what was
// expected; every documented example still loads.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ConfigError, loadConfig } from '../../gateway/config.js';
import { fileConfigSchema } from '../../gateway/config_schema.js';

const ENV = { TROUPE_JWT_SECRET: 'a-test-secret-that-is-long-enough-for-hs256' };

function load(file: unknown, env: Record<string, string> = {}): ReturnType<typeof loadConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-config-schema-'));
  const path = join(dir, 'troupe.json');
  writeFileSync(path, JSON.stringify(file));
  return loadConfig({ TROUPE_DATA_DIR: dir, ...ENV, ...env }, path);
}

t.test('an unknown top-level key stops the start and lists the keys allowed there', async (t) => {
  const err = t.throws(() => load({ prot: 8080 })) as ConfigError;
  t.ok(err instanceof ConfigError);
  t.equal(err.reason, 'bad_config_schema');
  t.match(err.message, /unknown key "prot" \(expected one of: host, port,/);
});

t.test('an unknown key deep in an agent names its full path', async (t) => {
  t.throws(
    () => load({ agents: [{ id: 'a', model: 'm', provider: { kind: 'openai', apikey: 'sk-x' } }] }),
    /unknown key "agents\[0\]\.provider\.apikey" \(expected one of: kind, label, maxTokensField, transport, apiKey,/,
  );
  t.throws(() => load({ agents: [{ id: 'a', model: 'm', provider: { kind: 'simulated' }, temprature: 1 }] }), /unknown key "agents\[0\]\.temprature"/);
});

t.test('a wrong type names the key and the type expected', async (t) => {
  t.throws(() => load({ port: '8080' }), /port: .*expected number, received string/);
  t.throws(() => load({ allowFallback: 'yes' }), /allowFallback: .*expected boolean/);
  t.throws(() => load({ limits: { chat: { user: { perSec: 0 } } } }), /limits\.chat\.user\.perSec: .*>=/);
  t.throws(() => load({ injectionAction: 'shout' }), /injectionAction: .*"log"\|"warn"\|"block"/);
});

t.test('an unknown provider kind lists the kinds there are', async (t) => {
  t.throws(() => load({ agents: [{ id: 'a', model: 'm', provider: { kind: 'nope' } }] }), /agents\[0\]\.provider\.kind: .*openai.*simulated/);
});

t.test('an unknown TROUPE_ environment variable stops the start; others are not ours to judge', async (t) => {
  t.throws(() => load({}, { TROUPE_PROT: '1' }), /unknown environment variable TROUPE_PROT/);
  t.doesNotThrow(() => load({}, { PATH: '/bin', TROUPE_TEST_ANYTHING: 'x' }));
  t.doesNotThrow(() => load({}, { TROUPE_LOG_LEVEL: 'debug', TROUPE_LOG_FORMAT: 'json' }), "the logger's variables are known");
  t.throws(() => load({}, { TROUPE_PORT: 'eighty' }), /TROUPE_PORT must be a whole number/);
});

t.test('the standard OTEL_* variables are accepted: tracing is off without an endpoint, bad values name the variable', async (t) => {
  t.equal(load({}, { OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }).tracing, undefined, 'no endpoint: off');
  const on = load({}, {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'edge',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%20b,x=1',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test',
  }).tracing;
  t.match(on, {
    url: 'http://127.0.0.1:4318/v1/traces', protocol: 'http/json', serviceName: 'edge', sampler: 'parentbased_traceidratio', samplerArg: 0.25,
    headers: { 'api-key': 'a b', x: '1' },
  });
  t.equal(load({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c.example/traces' }).tracing?.url, 'https://c.example/traces', 'the signal\'s own URL is used as is');
  t.equal(load({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).tracing?.protocol, 'http/protobuf', 'the spec\'s default protocol');
  t.equal(load({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).tracing, undefined);
  t.equal(load({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).tracing, undefined);
  t.throws(() => load({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), /OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json/);
  t.throws(() => load({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'sometimes' }), /OTEL_TRACES_SAMPLER must be one of/);
  t.throws(() => load({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }), /OTEL_TRACES_SAMPLER_ARG must be a ratio/);
  t.throws(() => load({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), /OTLP endpoint must be http or https/);
});

t.test('every JSON config example in the docs passes the schema', async (t) => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const known = new Set(Object.keys(fileConfigSchema.shape));
  let checked = 0;
  for (const doc of ['docs/configuration.md', 'docs/tools.md', 'docs/providers.md', 'docs/provider-actors.md', 'README.md']) {
    for (const m of readFileSync(join(root, doc), 'utf8').matchAll(/```json\n([\s\S]*?)```/g)) {
      let value: unknown;
      try {
        value = JSON.parse(m[1]);
      } catch {
        continue;
      }
      if (value === null || typeof value !== 'object' || !Object.keys(value).every((k) => known.has(k))) continue;
      const result = fileConfigSchema.safeParse(value);
      t.ok(result.success, `${doc}: ${m[1].slice(0, 60)}`, { issues: result.error?.issues });
      checked++;
    }
  }
  t.ok(checked >= 3, `examples checked: ${checked}`);
});

t.test('the configuration.md agents example loads whole', async (t) => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const doc = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
  const block = /```json\n([\s\S]*?)```/.exec(doc);
  const config = load(JSON.parse(block![1]));
  t.same(config.agents.map((a) => a.id), ['assistant', 'gpt']);
});
