// A per-request signal that fires on the caller's abort or when the response
// has not started within timeoutMs. Used by adapters whose SDK has no usable
// timeout of its own (Gemini's never clears its timer; Ollama is plain fetch).
// Remembering which of the two fired lets errors say 'aborted' or 'timeout'.

/** How long any adapter waits for a response to start, unless configured. */
export const DEFAULT_TIMEOUT_MS = 60_000;

import { genericError, ProviderError } from './errors.js';

export class RequestDeadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly outer: AbortSignal | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private expired = false;
  private ended = false;
  private readonly onOuterAbort = (): void => this.controller.abort(this.outer?.reason);

  constructor(outer: AbortSignal | undefined, timeoutMs: number) {
    this.signal = this.controller.signal;
    this.outer = outer;
    if (outer?.aborted) {
      this.controller.abort(outer.reason);
      return;
    }
    outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort(new Error(`no response within ${timeoutMs} ms`));
    }, timeoutMs);
  }

  /** True when the abort came from the timeout, not from the caller. */
  get timedOut(): boolean {
    return this.expired && !this.outer?.aborted;
  }

  /** The response has started: from here on only the caller may cancel it. */
  responded(): void {
    clearTimeout(this.timer);
  }

  /** The error for a failure that no SDK class explains better. */
  toError(provider: string, err: unknown): ProviderError {
    if (this.timedOut) return new ProviderError('timeout', provider, 'no response before the timeout', { cause: err });
    return genericError(provider, err, this.signal.aborted ? this.signal : undefined);
  }

  /**
   * The response was read to its end: nothing is left for `dispose` to close.
   * Saves the abort (an Error with its stack and an abort event) that a
   * finished exchange does not need, on every request of the lean transport.
   */
  finished(): void {
    this.ended = true;
  }

  /**
   * Ends the request's life. Unless the response was read to its end
   * (`finished`), aborts, which closes the connection of one the caller walked
   * away from (broke out of the stream), which would otherwise keep downloading.
   */
  dispose(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
    if (!this.ended && !this.controller.signal.aborted) this.controller.abort(new Error('request finished'));
  }
}
