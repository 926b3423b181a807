/** Public surface of security/: what transports/, actors/ and gateway/ import. */
export * from './types.js';
export * from './errors.js';
export * from './jwt.js';
export * from './api_keys.js';
export * from './rate_limit.js';
export * from './ssrf.js';
export * from './safe_fetch.js';
export * from './shell_guard.js';
export * from './injection.js';
export * from './secrets.js';
export * from './scrub.js';
