// Headless Chromium for the console's tests: Debian's browser, driven by
// playwright-core (a devDependency) through executablePath. playwright-core is
// loaded at run time and typed here by the little of it the tests use, so the
// project still compiles where dev dependencies are not installed; the tests
// then skip with the reason, except under CI=true, where that is a failure.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Locator {
  nth(i: number): Locator;
  first(): Locator;
  last(): Locator;
  count(): Promise<number>;
  waitFor(opts?: { state?: 'attached' | 'visible'; timeout?: number }): Promise<void>;
  textContent(): Promise<string | null>;
  inputValue(): Promise<string>;
  fill(value: string): Promise<void>;
  getAttribute(name: string): Promise<string | null>;
  locator(selector: string, opts?: { hasText?: string | RegExp }): Locator;
  getByText(text: string | RegExp): Locator;
  click(): Promise<void>;
}

export interface Page {
  goto(url: string): Promise<unknown>;
  reload(): Promise<unknown>;
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  selectOption(selector: string, value: string): Promise<string[]>;
  waitForSelector(selector: string, opts?: { state?: 'attached' | 'visible'; timeout?: number }): Promise<unknown>;
  textContent(selector: string): Promise<string | null>;
  locator(selector: string, opts?: { hasText?: string | RegExp }): Locator;
  getByText(text: string | RegExp): Locator;
  /** An expression evaluated in the page (a string: the tests are compiled without the DOM's types). */
  evaluate<T = unknown>(expression: string): Promise<T>;
  screenshot(opts: { path: string; fullPage?: boolean }): Promise<unknown>;
  on(event: 'console', fn: (message: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', fn: (error: Error) => void): void;
}

export interface Browser {
  pages(): Page[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

interface Chromium {
  launchPersistentContext(userDataDir: string, opts: Record<string, unknown>): Promise<Browser>;
}

export const CHROMIUM = process.env.TROUPE_CHROMIUM ?? '/usr/bin/chromium';
// A variable, so tsc does not need the package to compile this file.
const DRIVER = 'playwright-core';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

let chromium: Chromium | undefined;
let missing: string | undefined;
try {
  chromium = ((await import(DRIVER)) as { chromium: Chromium }).chromium;
} catch (err) {
  missing = `needs playwright-core (npm install): ${String(err)}`;
}
if (missing === undefined && !existsSync(CHROMIUM)) missing = `needs Chromium at ${CHROMIUM} (apt-get install chromium, or set TROUPE_CHROMIUM)`;

/** tap `skip`: false when a browser can run; the reason when not (a failure under CI=true, where .ci/run installs it). */
export function needsChromium(): false | string {
  if (missing === undefined) return false;
  if (process.env.CI === 'true') throw new Error(`${missing}; under CI=true the console's browser tests must run`);
  return missing;
}

/** A fresh headless Chromium with its own user-data-dir. */
export function launch(viewport = { width: 1200, height: 800 }): Promise<Browser> {
  if (chromium === undefined) throw new Error(missing);
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'troupe-chromium-')), {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport,
  });
}
