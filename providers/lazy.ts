// A provider whose adapter module, and the SDK or HTTP client it imports, loads
// with its first request. Every actor worker builds the providers its agents
// name; importing all four SDKs and undici there up front cost each worker
// ~60 MB of RSS whether or not an agent used them (bench/RESULTS.md, issue 12).
//
//   stream(req) ──► loaded? ── yes ──► adapter.stream(req)            (no extra layer)
//                      └────── no ───► await load() once, then the same
//
// A failed load (a constructor refusing its options) is kept, so every request
// fails the same way instead of retrying the import.

import type { ChatRequest, Provider, StreamEvent } from './types.js';

export class LazyProvider implements Provider {
  #loaded: Provider | undefined;
  #loading: Promise<Provider> | undefined;

  constructor(readonly kind: string, private readonly load: () => Promise<Provider>) {}

  stream(req: ChatRequest): AsyncIterable<StreamEvent> {
    return this.#loaded === undefined ? this.#first(req) : this.#loaded.stream(req);
  }

  /** The adapter, loading it if no request has yet (tests and callers that want it at once). */
  async adapter(): Promise<Provider> {
    this.#loading ??= this.load().then((p) => (this.#loaded = p));
    return this.#loading;
  }

  async *#first(req: ChatRequest): AsyncIterable<StreamEvent> {
    yield* (await this.adapter()).stream(req);
  }
}
