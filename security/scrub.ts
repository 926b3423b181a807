/**
 * Credential scrubbing for logs and audit records. Two passes over text:
 *   1. token shapes that are secret wherever they appear (API keys, JWTs, PEM keys, ...);
 *   2. `key=value`, `key: value` and `"key": "value"` pairs whose key names a secret.
 * `scrubObject` additionally replaces the values of sensitive keys in structured data.
 */

export const REDACTED = '[REDACTED]';
const REDACTED_OPENING = '[REDACTED';

/** Shapes redacted wherever they occur. Order matters: specific before generic. */
const TOKEN_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g, '[REDACTED PRIVATE KEY]'],
  [/(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED], // JWT (header starts {" )
  [/\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // "Basic" is also an English word: require something base64 that is not plain prose.
  [/\b(Basic)\s+(?=[A-Za-z0-9+/]{0,512}[0-9+/=])[A-Za-z0-9+/]{8,}={0,2}/gi, `$1 ${REDACTED}`],
  [/\bsk-ant-[A-Za-z0-9_-]{10,}/g, REDACTED],
  [/\bsk-(?:proj-|live-|test-|svcacct-)?[A-Za-z0-9_-]{16,}/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, REDACTED],
  [/\btrp_[A-Za-z0-9_-]{10,}/g, REDACTED],
  [/\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{30,}\b/g, REDACTED],
  [/\bxox[abpors]-[A-Za-z0-9-]{10,}/g, REDACTED],
  [/\b\d{6,12}:AA[A-Za-z0-9_-]{30,}\b/g, REDACTED], // Telegram bot token
  [/((?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}:\/\/[^\s:/@]{1,256}:)[^\s@/]{1,256}@/gi, `$1${REDACTED}@`], // password in a URL
];

const SENSITIVE_WORDS = new Set([
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'apikey', 'credential', 'credentials',
  'authorization', 'cookie', 'signature', 'privatekey', 'sessionid',
]);
const SENSITIVE_PAIRS = [['api', 'key'], ['private', 'key'], ['access', 'key'], ['secret', 'key'], ['client', 'secret'], ['session', 'id']];

/** Audit details and log fields repeat the same few names on every event: judge each once. */
const keyVerdicts = new Map<string, boolean>();
const MAX_REMEMBERED_KEYS = 4096;
const MAX_REMEMBERED_KEY_CHARS = 64;

/**
 * True when a field name names a secret: `password`, `api_key`, `accessToken`, `X-Api-Key`,
 * `AWS_SECRET_ACCESS_KEY`. Counts such as `max_tokens` or `token_count` are not secrets.
 */
export function isSensitiveKey(name: string): boolean {
  let verdict = keyVerdicts.get(name);
  if (verdict === undefined) {
    verdict = judgeKey(name);
    // Field names come from code and are few; a flood of distinct or long ones is not remembered.
    if (keyVerdicts.size < MAX_REMEMBERED_KEYS && name.length <= MAX_REMEMBERED_KEY_CHARS) keyVerdicts.set(name, verdict);
  }
  return verdict;
}

function judgeKey(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
  if (words.some((w) => w === 'count' || w === 'tokens' || w === 'limit' || w === 'usage')) return false;
  if (words.some((w) => SENSITIVE_WORDS.has(w))) return true;
  return SENSITIVE_PAIRS.some(([a, b]) => words.some((w, i) => w === a && words[i + 1] === b));
}

// key (optionally quoted), separator, value (quoted, an auth scheme plus token, or a bare run)
const FIELD = /(?<![\w.-])(["']?)([A-Za-z_][\w.-]{0,63})\1(\s*[=:]\s*)("(?:[^"\\\n]|\\.){0,4096}"|'[^'\n]{0,4096}'|(?:Bearer|Basic)\s+\S+|[^\s&;,"'}\]]+)/g;

function scrubFields(text: string): string {
  return text.replace(FIELD, (whole, quote: string, key: string, sep: string, value: string) => {
    // Already redacted by the token pass: a bare run stops before the closing "]", so look for the opening.
    if (!isSensitiveKey(key) || value.includes(REDACTED_OPENING)) return whole;
    const q = value.startsWith('"') ? '"' : value.startsWith("'") ? "'" : '';
    return `${quote}${key}${quote}${sep}${q}${REDACTED}${q}`;
  });
}

/**
 * Text that no pattern above can change: every token shape starts with one of these
 * literals (case ignored, a superset), and a key-value pair needs `=` or `:`. One scan
 * instead of fourteen for the common case (ids, names, prose without separators).
 */
const MAYBE_SECRET = /[=:]|-----BEGIN|eyJ|bearer|basic|sk-|AIza|trp_|A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)|gh[pousr]_|github_pat_|xox[abpors]-/i;

export function scrub(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  let out = text;
  for (const [re, replacement] of TOKEN_PATTERNS) out = out.replace(re, replacement);
  return scrubFields(out);
}

export interface ScrubObjectOptions {
  /** Nesting depth kept; deeper values become '[Truncated]'. Default 8. */
  maxDepth?: number;
  /** Array items and object keys kept per level. Default 1000. */
  maxEntries?: number;
}

/**
 * Deep copy with secrets removed: values under sensitive keys become '[REDACTED]', strings are
 * scrubbed, cycles become '[Circular]'. Errors become { name, message, code? }.
 */
export function scrubObject(value: unknown, opts: ScrubObjectOptions = {}): unknown {
  const maxDepth = opts.maxDepth ?? 8;
  const maxEntries = opts.maxEntries ?? 1000;
  const ancestors = new Set<object>();

  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return scrub(v);
    if (typeof v === 'bigint') return v.toString();
    if (typeof v !== 'object' || v === null) return typeof v === 'function' || typeof v === 'symbol' ? String(v) : v;
    if (ancestors.has(v)) return '[Circular]';
    if (depth >= maxDepth) return '[Truncated]';
    if (v instanceof Date) return v.toISOString();
    if (Buffer.isBuffer(v) || ArrayBuffer.isView(v)) return `[${v.byteLength} bytes]`;
    ancestors.add(v);
    try {
      if (Array.isArray(v)) {
        const items = v.slice(0, maxEntries).map((item) => walk(item, depth + 1));
        if (v.length > maxEntries) items.push(`[${v.length - maxEntries} more]`);
        return items;
      }
      const source: Record<string, unknown> = v instanceof Error
        ? { name: v.name, message: v.message, ...('code' in v ? { code: (v as { code: unknown }).code } : {}) }
        : (v as Record<string, unknown>);
      const out: Record<string, unknown> = {};
      const entries = Object.entries(source);
      for (const [key, child] of entries.slice(0, maxEntries)) {
        out[key] = isSensitiveKey(key) && child !== null && child !== undefined ? REDACTED : walk(child, depth + 1);
      }
      if (entries.length > maxEntries) out['[truncated]'] = `${entries.length - maxEntries} more keys`;
      return out;
    } finally {
      ancestors.delete(v);
    }
  };
  return walk(value, 0);
}
