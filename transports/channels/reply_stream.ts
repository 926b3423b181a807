/**
 * Turns one run's events into platform messages. Where the platform can edit,
 * the reply streams into one message: sent a quarter of `editIntervalMs` after
 * the first text (a reply that is whole by then goes out in one call, not a
 * post and an edit), then edited at most once per `editIntervalMs` with what
 * has arrived (one edit in flight at a time; text arriving meanwhile rides
 * with the next). At the end the whole
 * reply is split at the platform's limit: the streamed message becomes the
 * first piece and the rest follow as new messages. Elsewhere the reply is
 * sent whole, in pieces, at the end.
 *
 *   delta ─(250 ms)─► send "The act…" ─(≥1 s)─► edit "The actor answers…" ─► final: edit piece 1, send piece 2
 */
import type { ChatEventMap, ChatEventName, EventSink } from '../backend.js';
import { renderChunks } from './split.js';

/** What a reply needs from its channel: rendering and the queued platform calls. */
export interface ReplyOutput {
  readonly maxChars: number;
  readonly canEdit: boolean;
  render(markdown: string): string;
  send(text: string): Promise<string>;
  edit(messageId: string, text: string): Promise<void>;
}

export class ReplyStream {
  readonly done: Promise<void>;
  #finish!: () => void;
  #text = '';
  #messageId: string | undefined;
  #shown = '';
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #lastAt = 0;
  /** When the first text arrived (the first post waits a little after it). */
  #firstAt = 0;
  #failed = false;
  #ended = false;

  /** How long the first post waits after the first text. */
  readonly firstPostMs: number;

  constructor(private readonly out: ReplyOutput, private readonly editIntervalMs = 1000) {
    this.firstPostMs = editIntervalMs / 4;
    this.done = new Promise((resolve) => {
      this.#finish = resolve;
    });
  }

  readonly sink: EventSink = <E extends ChatEventName>(event: E, payload: ChatEventMap[E]): void => {
    if (this.#ended) return;
    if (event === 'chat.delta') {
      this.#text += (payload as ChatEventMap['chat.delta']).delta;
      if (this.out.canEdit) this.#schedule();
    } else if (event === 'chat.final') {
      const final = payload as ChatEventMap['chat.final'];
      this.#end(final.text.length > 0 ? final.text : this.#text);
    } else if (event === 'chat.error') {
      const { error: e, text } = payload as ChatEventMap['chat.error'];
      const note = `Sorry, I could not answer (${e.code}${e.retryable === true ? '; please try again' : ''}).`;
      // A reply sent whole asked for no deltas: what the run had said comes with the error.
      const said = this.#text.length > 0 ? this.#text : (text ?? '');
      this.#end(said.length > 0 ? `${said}\n\n${note}` : note);
    }
  };

  /** Whether the user already sees something: a streamed post, or the end. */
  get visible(): boolean {
    return this.#messageId !== undefined || this.#ended;
  }

  /** Ends the reply with `text` (a command's answer, an error), as if the run had. */
  fail(text: string): void {
    if (!this.#ended) this.#end(text);
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#inFlight !== undefined || this.#failed) return;
    const now = Date.now();
    if (this.#firstAt === 0) this.#firstAt = now;
    const due = this.#messageId === undefined ? this.#firstAt + this.firstPostMs : this.#lastAt + this.editIntervalMs;
    const wait = Math.max(0, due - now);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#inFlight = this.#showPartial().finally(() => {
        this.#inFlight = undefined;
        if (!this.#ended && this.#text !== this.#shown) this.#schedule();
      });
    }, wait);
  }

  async #showPartial(): Promise<void> {
    const text = this.#text;
    const first = renderChunks(text, this.out.maxChars, (md) => this.out.render(md))[0];
    if (first === undefined) return;
    this.#lastAt = Date.now();
    try {
      if (this.#messageId === undefined) this.#messageId = await this.out.send(first);
      else await this.out.edit(this.#messageId, first);
      this.#shown = text;
    } catch {
      // Counted and audited by the queue; stop streaming, the end retries once more.
      this.#failed = true;
    }
  }

  #end(text: string): void {
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    void (async () => {
      try {
        await this.#inFlight;
        const pieces = renderChunks(text, this.out.maxChars, (md) => this.out.render(md));
        let i = 0;
        if (this.#messageId !== undefined && pieces.length > 0) {
          // The streamed message becomes the first piece.
          if (this.#shown !== text) await this.out.edit(this.#messageId, pieces[0]);
          i = 1;
        }
        for (; i < pieces.length; i++) await this.out.send(pieces[i]);
      } catch {
        // The queue counted and audited the failed delivery.
      } finally {
        this.#finish();
      }
    })();
  }
}
