/**
 * The web console's files: `GET /console` (the page) and `GET /console/<file>`
 * (its scripts and style sheet), public like any static site. The page holds
 * no data and no credential: everything it shows comes from the API routes,
 * which check the signed-in credential's scopes as they do for any client.
 *
 * Every answer carries a strict Content-Security-Policy: scripts and styles
 * only from this origin, no inline script, no eval, no plugins, no framing,
 * network only to this origin (the admin API, /v1, /metrics and /ws).
 */
import { TroupeError } from './errors.js';
import type { HttpEdge } from './http_edge.js';
import type { HttpExchange } from './http_exchange.js';

export interface ConsoleFile {
  /** The Content-Type to answer with. */
  type: string;
  body: string;
}

/** Where the console's files come from (the gateway reads them from the package). */
export interface ConsoleAssets {
  /** The file named `name` (`index.html`, `app.js`, ...), or undefined when there is none. */
  read(name: string): Promise<ConsoleFile | undefined>;
}

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // The files change with each release of the package; a reload must pick them up.
  'cache-control': 'no-cache',
} as const;

/** File names the console may serve: one flat folder, no path separators, no dot files. */
const FILE_NAME = /^[a-z0-9_-]+\.(html|js|css|svg)$/;

export function registerConsoleRoutes(edge: HttpEdge, assets: ConsoleAssets): void {
  const serve = async (ex: HttpExchange, name: string): Promise<void> => {
    const file = FILE_NAME.test(name) ? await assets.read(name) : undefined;
    if (file === undefined) throw new TroupeError('NOT_FOUND', 'No such console file', { reason: 'no_console_file' });
    ex.end(200, { 'content-type': file.type, ...HEADERS }, file.body);
  };
  edge.route('GET', '/console', ({ ex }) => serve(ex, 'index.html'), { name: 'console' });
  edge.route('GET', '/console/:file', ({ ex, params }) => serve(ex, params[0] === '' ? 'index.html' : params[0]), { name: 'console' });
}
