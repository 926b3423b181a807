/**
 * autocannon used as a library. It ships no types, so the small part we use
 * is described here and the module is loaded through require.
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

export type AutocannonClient = EventEmitter;

export interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  onResponse?: (status: number, body: string) => void;
}

export interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  /** Requests in all, then stop (each answered or timed out); replaces `duration` when set. */
  amount?: number;
  overallRate?: number;
  timeout: number;
  requests: AutocannonRequest[];
  setupClient?: (client: AutocannonClient) => void;
}

export interface AutocannonResult {
  requests: { total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

/** The running instance: emits 'response' (client, status, bytes, ms) and 'reqError' (err). */
export type AutocannonTracker = EventEmitter & { stop(): void };

type AutocannonFn = (opts: AutocannonOptions, cb: (err: Error | null, result: AutocannonResult) => void) => AutocannonTracker;

const autocannon = createRequire(import.meta.url)('autocannon') as AutocannonFn;

export function runAutocannon(opts: AutocannonOptions, onStart: (tracker: AutocannonTracker) => void): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    const tracker = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
    onStart(tracker);
  });
}
