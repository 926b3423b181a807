/**
 * The one logger: pino, JSON lines on stderr with `level`, `time` (ISO) and
 * `msg`, plus whatever a child binds (requestId, runId, session, tenant) and
 * the active trace id when tracing is on. Every line is scrubbed of
 * credentials. On a terminal the same lines are rendered for people.
 *
 * Each thread (main and every worker) builds its own root from the same
 * environment, so workers log exactly as the main thread does:
 *   TROUPE_LOG_LEVEL    trace|debug|info|warn|error|fatal|silent (default info)
 *   TROUPE_LOG_FORMAT   json|pretty (default: pretty when stderr is a terminal)
 *
 * Call sites use `(msg, fields)`, the shape the libraries' logger interfaces
 * (FrontDoorLogger, StoreLogger) declare, so a `Log` is passed to them as is.
 */
import { isatty } from 'node:tty';
import { threadId } from 'node:worker_threads';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { scrub, scrubObject } from '../security/scrub.js';
import { prettyLine } from './log_pretty.js';

export type LogFields = Record<string, unknown>;
export type LogLevel = LevelWithSilent;

const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Fields a log line may get from outside its call (the active trace). Set by observability/tracing.ts. */
let ambientFields: () => LogFields | undefined = () => undefined;

export function setAmbientLogFields(read: () => LogFields | undefined): void {
  ambientFields = read;
}

export class Log {
  constructor(readonly pino: Logger) {}

  trace(msg: string, fields?: LogFields): void { if (this.pino.isLevelEnabled('trace')) this.pino.trace(fields ?? {}, msg); }
  debug(msg: string, fields?: LogFields): void { if (this.pino.isLevelEnabled('debug')) this.pino.debug(fields ?? {}, msg); }
  info(msg: string, fields?: LogFields): void { this.pino.info(fields ?? {}, msg); }
  warn(msg: string, fields?: LogFields): void { this.pino.warn(fields ?? {}, msg); }
  error(msg: string, fields?: LogFields): void { this.pino.error(fields ?? {}, msg); }

  /** A logger that adds `bindings` to every line (scrubbed once, here). */
  child(bindings: LogFields): Log {
    return new Log(this.pino.child(scrubObject(bindings) as LogFields));
  }

  isEnabled(level: LogLevel): boolean {
    return this.pino.isLevelEnabled(level);
  }
}

export interface LogOptions {
  level?: string;
  format?: 'json' | 'pretty';
  /** Where lines go (tests); default stderr, written synchronously so no line is lost at exit. */
  destination?: DestinationStream;
}

/** Reads TROUPE_LOG_LEVEL; an unknown value falls back to info (and says so once, at start). */
export function levelFrom(value: string | undefined): LogLevel {
  const v = (value ?? '').trim().toLowerCase();
  return (LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : 'info';
}

export function createLog(opts: LogOptions = {}): Log {
  const format = opts.format ?? (process.env.TROUPE_LOG_FORMAT === 'json' ? 'json'
    : process.env.TROUPE_LOG_FORMAT === 'pretty' || isatty(2) ? 'pretty' : 'json');
  const sink = opts.destination ?? pino.destination({ fd: 2, sync: true });
  const out: DestinationStream = format === 'pretty' ? { write: (line: string) => sink.write(prettyLine(line)) } : sink;
  const logger = pino({
    level: levelFrom(opts.level ?? process.env.TROUPE_LOG_LEVEL),
    base: threadId === 0 ? { pid: process.pid } : { pid: process.pid, thread: threadId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      // Fields are scrubbed as objects (values under sensitive keys redacted, strings scanned for tokens).
      log: (fields) => scrubObject(fields) as LogFields,
    },
    hooks: {
      // The message is free text: scan it for credentials too.
      logMethod(args, method) {
        const [first, second, ...rest] = args as unknown[];
        if (typeof second === 'string') return method.apply(this, [first, scrub(second), ...rest] as Parameters<typeof method>);
        if (typeof first === 'string') return method.apply(this, [scrub(first), second, ...rest] as Parameters<typeof method>);
        return method.apply(this, args);
      },
    },
    mixin: () => ambientFields() ?? {},
  }, out);
  return new Log(logger);
}

let root: Log | undefined;

/** This thread's root logger, built on first use from the environment. */
export function rootLog(): Log {
  return (root ??= createLog());
}

/** Replaces this thread's root logger (tests, or a CLI that wants another destination). */
export function setRootLog(log: Log): void {
  root = log;
}
