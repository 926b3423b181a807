/**
 * Which uWebSockets.js we got. The package silently swaps in a slow `ws`-based
 * emulation when its native binary does not match the platform (or when
 * UWS_USE_FALLBACK=1), which would quietly void every performance claim, so
 * the front door checks and refuses to start on it unless told otherwise.
 */
import uws from 'uWebSockets.js';

export type Engine = 'native' | 'fallback';

/** Native builds export C++ functions, whose source text is `[native code]`. */
export function detectEngine(mod: { App: unknown } = uws): Engine {
  return typeof mod.App === 'function' && Function.prototype.toString.call(mod.App).includes('[native code]')
    ? 'native'
    : 'fallback';
}
