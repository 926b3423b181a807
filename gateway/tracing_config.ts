/**
 * Tracing configuration from the standard OpenTelemetry variables. Tracing is
 * off unless an OTLP endpoint is set (and OTEL_SDK_DISABLED is not true, and
 * OTEL_TRACES_EXPORTER is not `none`). Bad values fail start-up, naming the
 * variable. See docs/operations.md, "Tracing with OpenTelemetry".
 */
import type { SamplerName, TracingConfig } from '../observability/tracing.js';
import { ConfigError } from './config_error.js';

type Env = Record<string, string | undefined>;

const SAMPLERS: readonly SamplerName[] = [
  'always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio',
];

function set(v: string | undefined): v is string {
  return v !== undefined && v.trim() !== '';
}

function whole(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (!set(raw)) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  return n;
}

/** `key=value,key2=value2`, values percent-encoded (the OTLP exporter spec's format). */
function headers(env: Env, name: string): Record<string, string> {
  const raw = env[name];
  const out: Record<string, string> = {};
  if (!set(raw)) return out;
  for (const pair of raw.split(',')) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at).trim();
    if (at <= 0 || key === '') throw new ConfigError(`${name} must be key=value pairs separated by commas`);
    try {
      out[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      throw new ConfigError(`${name}: the value of ${key} is not valid percent-encoding`);
    }
  }
  return out;
}

function tracesUrl(env: Env): string | undefined {
  const own = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  // The signal's own variable is the whole URL; the general one gets /v1/traces appended.
  const url = set(own) ? own.trim() : set(base) ? `${base.trim().replace(/\/+$/, '')}/v1/traces` : undefined;
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${set(own) ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT'} must be an http(s) URL (got "${url}")`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`the OTLP endpoint must be http or https (got "${url}"); OTLP over gRPC is not supported, use http/protobuf or http/json`);
  }
  return url;
}

export function tracingConfig(env: Env): TracingConfig | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (exporters.includes('none')) return undefined;
  const unsupported = exporters.filter((e) => e !== 'otlp');
  if (unsupported.length > 0) throw new ConfigError(`OTEL_TRACES_EXPORTER: only otlp (or none) is supported (got "${env.OTEL_TRACES_EXPORTER}")`);
  const url = tracesUrl(env);
  if (url === undefined) return undefined;
  const protocolVar = set(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = (env[protocolVar] ?? '').trim() || 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new ConfigError(`${protocolVar} must be http/protobuf or http/json (got "${protocol}"; grpc is not supported)`);
  }
  const samplerName = (env.OTEL_TRACES_SAMPLER ?? '').trim() || 'parentbased_always_on';
  if (!(SAMPLERS as readonly string[]).includes(samplerName)) {
    throw new ConfigError(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')} (got "${samplerName}")`);
  }
  let samplerArg = 1;
  if (set(env.OTEL_TRACES_SAMPLER_ARG) && samplerName.endsWith('traceidratio')) {
    samplerArg = Number(env.OTEL_TRACES_SAMPLER_ARG);
    if (!Number.isFinite(samplerArg) || samplerArg < 0 || samplerArg > 1) {
      throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1 (got "${env.OTEL_TRACES_SAMPLER_ARG}")`);
    }
  }
  const maxQueueSize = whole(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2_048, 1, 1_000_000);
  return {
    url,
    protocol,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || 'troupe',
    sampler: samplerName as SamplerName,
    samplerArg,
    headers: { ...headers(env, 'OTEL_EXPORTER_OTLP_HEADERS'), ...headers(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') },
    timeoutMs: whole(env, set(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT) ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT' : 'OTEL_EXPORTER_OTLP_TIMEOUT', 10_000, 1, 600_000),
    maxQueueSize,
    maxExportBatchSize: Math.min(maxQueueSize, whole(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1, 1_000_000)),
    delayMs: whole(env, 'OTEL_BSP_SCHEDULE_DELAY', 1_000, 1, 600_000),
  };
}
