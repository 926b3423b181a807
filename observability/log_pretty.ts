/**
 * Renders one pino JSON line for a person at a terminal:
 *   12:04:05.123 WARN  rate limiter failed  limiter=chat error="…"
 * Small on purpose (no pino-pretty and its dependencies): time, level, message,
 * then the other fields as key=value.
 */
const SKIP = new Set(['time', 'level', 'msg', 'pid', 'hostname']);
const COLOURS: Record<string, string> = { trace: '90', debug: '36', info: '32', warn: '33', error: '31', fatal: '35' };

export function prettyLine(line: string, colour = true): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const level = String(entry.level ?? '').toUpperCase().padEnd(5);
  const painted = colour ? `\u001b[${COLOURS[String(entry.level)] ?? '0'}m${level}\u001b[0m` : level;
  const rest = Object.entries(entry)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${painted} ${String(entry.msg ?? '')}${rest === '' ? '' : `  ${rest}`}\n`;
}
