/**
 * One channel leg of `troupe bench channel`, whichever harness drives it:
 * the harness serves the platform's API (the gateway's channel `apiBase`),
 * sends the signed webhooks, times the replies, and reports the figures below
 * with the CPU they cost, the gateway's and its own.
 *
 *   harness.start() ─► apiRoot ─► gateway started against it ─► harness.run(gateway) ─► ChannelLeg
 *
 * `node` (node_harness.ts): the webhook client and the fake in this process.
 * `go` (go_harness.ts): bench/independent/chanload.go, a separate process.
 */
import { cpuSnapshot, cpuSpent } from '../common/proc_cpu.js';
import type { LatencySummary } from '../report/result.js';
import type { BenchPlatformName } from './platform.js';

export type HarnessName = 'node' | 'go';

/** What a leg needs to know; the gateway is started by the caller. */
export interface LegOptions {
  platform: BenchPlatformName;
  conns: number;
  /** Webhooks per second in total; 0 = closed loop (the Go harness runs closed loop only). */
  rate: number;
  durationMs: number;
  warmupMs: number;
  drainMs: number;
  /** The user's message and the simulated agent's whole reply to it. */
  text: string;
  expected: string;
}

export interface ChannelFigures {
  sent: number;
  /** Webhooks the gateway did not answer 200 (they are not counted lost). */
  rejected: number;
  completed: number;
  /**
   * Webhooks the channel answered "still answering your earlier messages" (more than its per-chat
   * queue already waited in that chat: an open loop faster than the gateway); not counted as lost.
   */
  busy: number;
  lost: number;
  duplicated: number;
  messagesPerSec: number;
  latency: LatencySummary;
}

/** CPU ms per message answered: the gateway's by thread name (`main`, worker names, `total`) and the harness's own. */
export interface LegCpu {
  messages: number;
  gatewayMs: Record<string, number>;
  benchMs: number;
  /** Of benchMs, what the Go harness process spent (`--harness go`). */
  goMs?: number;
}

export interface ChannelLeg {
  channel: ChannelFigures;
  cpu: LegCpu;
}

export interface Harness {
  /** The platform's API root, `http://127.0.0.1:<port>`, once it is served. */
  readonly apiRoot: string;
  /** Drives the gateway's channel at `webhookUrl` for the warm-up, the window and the drain. */
  run(gateway: { pid: number; webhookUrl: string }): Promise<ChannelLeg>;
  stop(): Promise<void>;
}

/** CPU ms per message from CPU seconds, rounded to the microsecond. */
export function msPerMessage(seconds: number, messages: number): number {
  return Math.round((seconds * 1000 / Math.max(1, messages)) * 1000) / 1000;
}

/**
 * Starts counting the gateway's CPU (by thread) and this process's. Calling the returned function ends the count;
 * what it returns divides it by the messages answered, which may be known only later.
 */
export function cpuMeter(pid: number): () => (messages: number) => LegCpu {
  const gw = cpuSnapshot(pid);
  const own = process.cpuUsage();
  return () => {
    const spent = cpuSpent(gw, cpuSnapshot(pid));
    const ownUs = process.cpuUsage(own);
    return (messages) => perMessage(spent, ownUs, messages);
  };
}

function perMessage(spent: Record<string, number>, ownUs: NodeJS.CpuUsage, messages: number): LegCpu {
  const gatewayMs: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(spent)) gatewayMs[name] = msPerMessage(seconds, messages);
  return { messages, gatewayMs, benchMs: msPerMessage((ownUs.user + ownUs.system) / 1e6, messages) };
}
