/**
 * The web console's files, read from the package on first request and kept:
 * the page and style sheet from `console/static/`, the scripts tsc compiled
 * from `console/src/` into `dist/console/`. Both folders ship in the package
 * (package.json "files"), so an installed gateway serves the console with no
 * build step. Nothing is read at start-up: a gateway nobody opens the console
 * of pays nothing for it.
 */
import { readFile } from 'node:fs/promises';
import type { ConsoleAssets, ConsoleFile } from '../transports/index.js';

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

/** dist/gateway/ → dist/console/ (compiled scripts) and <package>/console/static/ (page, styles). */
const SCRIPTS = new URL('../console/', import.meta.url);
const STATIC = new URL('../../console/static/', import.meta.url);

export function consoleAssets(scripts: URL = SCRIPTS, statics: URL = STATIC): ConsoleAssets {
  // One promise per file found: concurrent first requests share one read. A miss is
  // forgotten, so requests for made-up names cannot grow the map.
  const files = new Map<string, Promise<ConsoleFile | undefined>>();
  return {
    read(name) {
      const known = files.get(name);
      if (known !== undefined) return known;
      const ext = name.slice(name.lastIndexOf('.') + 1);
      const type = TYPES[ext];
      if (type === undefined) return Promise.resolve(undefined);
      const file = readFile(new URL(name, ext === 'js' ? scripts : statics), 'utf8').then(
        (body): ConsoleFile => ({ type, body }),
        () => {
          files.delete(name);
          return undefined;
        },
      );
      files.set(name, file);
      return file;
    },
  };
}
