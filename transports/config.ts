/**
 * Front-door settings: every limit has a default, and every value is checked
 * once at start-up so a typo fails loudly instead of disabling a limit.
 */

export interface FrontDoorConfig {
  host: string;
  /** 0 picks a free port; `listen()` reports the real one. */
  port: number;
  /** Largest WS frame or HTTP body accepted. */
  maxPayloadBytes: number;
  /** Close a WS that neither sent nor received anything for this long (uWS pings keep live ones open). 0 disables. */
  idleTimeoutSec: number;
  /** Exact browser origins allowed to open /ws; '*' allows any. Requests without an Origin header are always allowed. */
  allowedOrigins: string[];
  /** Stop handing frames to uWS once its buffer for a socket holds this much. */
  maxBufferedBytes: number;
  /** Our own per-connection queue bound beyond uWS's buffer; overflow closes the consumer. */
  maxQueuedBytes: number;
  /** A queue that makes no progress for this long closes the consumer. */
  slowConsumerMs: number;
  /** Deepest JSON / msgpack nesting accepted in a frame or body. */
  maxJsonDepth: number;
  /** How long shutdown lets in-flight runs finish before closing everything. */
  shutdownDeadlineMs: number;
  /** Upgrades beyond this are refused with 503 OVERLOADED. */
  maxConnections: number;
  /** Requests one WS connection may have outstanding at once. */
  maxInflightPerConnection: number;
  /** A WS that has not authenticated within this time is closed (4401). */
  connectTimeoutMs: number;
  /** How often a WS signed in with an API key that sends nothing has the key checked (revoked: closed with 4403). */
  keyIdleRecheckMs: number;
  /** A non-streaming HTTP completion that takes longer than this fails with TIMEOUT. */
  httpRequestTimeoutMs: number;
  /** Start even on the slow `ws`-based emulation of uWS (tests, unsupported platforms). */
  allowFallback: boolean;
  /** Reported in `connect` and /health. */
  serverVersion: string;
  /** When set, /metrics answers only `Authorization: Bearer <metricsToken>` (401 otherwise). */
  metricsToken?: string;
}

export const DEFAULT_CONFIG: FrontDoorConfig = {
  host: '127.0.0.1',
  port: 0,
  maxPayloadBytes: 512 * 1024,
  idleTimeoutSec: 120,
  allowedOrigins: [],
  maxBufferedBytes: 256 * 1024,
  maxQueuedBytes: 1024 * 1024,
  slowConsumerMs: 10_000,
  maxJsonDepth: 32,
  shutdownDeadlineMs: 10_000,
  maxConnections: 10_000,
  maxInflightPerConnection: 32,
  connectTimeoutMs: 10_000,
  keyIdleRecheckMs: 30_000,
  httpRequestTimeoutMs: 300_000,
  allowFallback: false,
  serverVersion: '0.1.0',
};

const POSITIVE_INTEGERS = [
  'maxPayloadBytes', 'maxBufferedBytes', 'maxQueuedBytes', 'slowConsumerMs', 'maxJsonDepth',
  'shutdownDeadlineMs', 'maxConnections', 'maxInflightPerConnection', 'connectTimeoutMs', 'keyIdleRecheckMs', 'httpRequestTimeoutMs',
] as const;

export function resolveConfig(partial: Partial<FrontDoorConfig> = {}): FrontDoorConfig {
  const cfg: FrontDoorConfig = { ...DEFAULT_CONFIG, ...partial };
  for (const key of POSITIVE_INTEGERS) {
    const v = cfg[key];
    if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`front door config: ${key} must be a positive integer, got ${String(v)}`);
  }
  if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535) throw new RangeError(`front door config: bad port ${cfg.port}`);
  if (cfg.keyIdleRecheckMs < 1_000) throw new RangeError(`front door config: keyIdleRecheckMs must be at least 1000, got ${cfg.keyIdleRecheckMs}`);
  // uWS rounds idle timeouts to ~4 s and rejects values between 1 and 7.
  if (!Number.isInteger(cfg.idleTimeoutSec) || (cfg.idleTimeoutSec !== 0 && cfg.idleTimeoutSec < 8)) {
    throw new RangeError('front door config: idleTimeoutSec must be 0 or an integer >= 8');
  }
  if (!Array.isArray(cfg.allowedOrigins) || !cfg.allowedOrigins.every((o) => typeof o === 'string')) {
    throw new RangeError('front door config: allowedOrigins must be a list of strings');
  }
  return cfg;
}
