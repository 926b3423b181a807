/** What every page of the console gets, and what it is. */
import type { Identity } from './api.js';
import type { Rpc } from './rpc.js';

export interface PageContext {
  identity: Identity;
  /** The shared WebSocket connection (opened again if it closed). */
  rpc(): Promise<Rpc>;
  /** Runs `fn` every `ms` while this page is shown. */
  every(ms: number, fn: () => void): void;
  /** Runs when the reader leaves this page. */
  onLeave(fn: () => void): void;
}

export interface Page {
  /** The hash route: `#/<id>`. */
  id: string;
  title: string;
  render(root: HTMLElement, ctx: PageContext): void | Promise<void>;
}
