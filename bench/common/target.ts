/** Benchmarks only ever load this machine. */

export class BenchError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Parses `url` and refuses anything but a loopback host with one of `schemes`. */
export function loopbackUrl(url: string, schemes: readonly string[]): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BenchError('INVALID_REQUEST', `not a URL: ${url}`);
  }
  if (!schemes.includes(u.protocol)) throw new BenchError('INVALID_REQUEST', `${url}: scheme must be ${schemes.join(' or ')}`);
  if (!LOOPBACK.has(u.hostname)) throw new BenchError('FORBIDDEN', `${url}: benchmarks only target 127.0.0.1, localhost or [::1]`);
  return u;
}

export function cpuPercent(cpuUs: number, wallMs: number): number {
  return wallMs <= 0 ? 0 : Math.round((cpuUs / 1000 / wallMs) * 1000) / 10;
}
