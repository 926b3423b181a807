/**
 * The live line on a TTY: phase, open connections, requests per second,
 * p99 so far and errors. Silent when stderr is not a terminal (CI, pipes).
 */
import type { Phase } from '../report/result.js';

export interface LiveFigures {
  phase: Phase;
  open: number;
  completed: number;
  errors: number;
  p99Ms: number;
}

export class LiveProgress {
  private lastCompleted = 0;
  private lastAt = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private readonly read: () => LiveFigures,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = out.isTTY === true;
  }

  start(): void {
    if (!this.enabled || this.timer !== undefined) return;
    this.timer = setInterval(() => this.draw(), 1_000);
    this.timer.unref();
  }

  private draw(): void {
    const f = this.read();
    const now = performance.now();
    const rps = Math.max(0, Math.round(((f.completed - this.lastCompleted) * 1000) / Math.max(1, now - this.lastAt)));
    this.lastCompleted = f.completed;
    this.lastAt = now;
    const line = `${this.label} [${f.phase}] open ${f.open}  ${rps} req/s  p99 ${f.p99Ms.toFixed(2)} ms  errors ${f.errors}`;
    this.out.write(`\r\x1b[2K${line}`);
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.out.write('\r\x1b[2K');
  }
}
