/**
 * The independent harness (`--harness go`): bench/independent/chanload.go, a
 * Go process of its own that serves the platform's API and sends the signed
 * webhooks (closed loop), built on demand like wsload. It speaks one JSON
 * object a line on stdout:
 *
 *   chanload ──{"event":"listening","port"}──► gateway started against it
 *            ◄── webhook URL on stdin ──────── a leg (after the WebSocket warm-up)
 *            ──{"event":"measuring"}─────────► the gateway's CPU count starts
 *            ──{"event":"drained"}───────────► … and ends
 *            ──{"event":"result",…}──────────► the leg's figures, its own CPU (getrusage)
 *            ◄── another URL: another leg; stdin closed: it exits
 *
 * The harness CPU it reports is chanload's own plus this process's (idle,
 * waiting on it) over the same window.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { goBinary } from '../independent/go_build.js';
import type { LatencySummary } from '../report/result.js';
import { cpuMeter, msPerMessage, type ChannelFigures, type ChannelLeg, type Harness, type LegCpu, type LegOptions } from './leg.js';
import { benchSecrets } from './platform.js';

type ChanloadEvent =
  | { event: 'listening'; port: number }
  | { event: 'measuring' }
  | { event: 'drained' }
  | (Omit<ChannelFigures, 'latency'> & { event: 'result'; latencyMs: LatencySummary; cpuMs: number });

export async function startGoHarness(o: LegOptions, binary?: string): Promise<Harness> {
  if (o.rate > 0) throw new Error('the Go harness runs closed loop only (no --rate)');
  const bin = goBinary('chanload', binary);
  const secrets = benchSecrets(o.platform);
  const args = [
    `-platform=${o.platform}`, `-token=${secrets.token}`, `-secret=${secrets.secret}`, `-conns=${o.conns}`,
    `-warmup=${o.warmupMs}ms`, `-duration=${o.durationMs}ms`, `-drain=${o.drainMs}ms`, `-text=${o.text}`, `-expect=${o.expected}`,
    ...(secrets.phone === undefined ? [] : [`-phone=${secrets.phone}`]),
  ];
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`chanload exited (${signal ?? code})`)));
  const lines = createInterface({ input: child.stdout });
  const events: ChanloadEvent[] = [];
  let wake: (() => void) | undefined;
  lines.on('line', (line) => {
    try {
      events.push(JSON.parse(line) as ChanloadEvent);
    } catch {
      process.stderr.write(`chanload: ${line}\n`);
    }
    wake?.();
  });
  const next = async <K extends ChanloadEvent['event']>(kind: K): Promise<Extract<ChanloadEvent, { event: K }>> => {
    for (;;) {
      const e = events.shift();
      if (e !== undefined) {
        if (e.event === kind) return e as Extract<ChanloadEvent, { event: K }>;
        continue;
      }
      const ended = await Promise.race([new Promise<undefined>((resolve) => (wake = () => resolve(undefined))), exited]);
      if (ended !== undefined && events.length === 0) throw new Error(`${ended} before "${kind}"`);
    }
  };
  // Its stdin ending ends it (after a leg in progress); a harness that will not end is killed.
  const stop = async (): Promise<void> => {
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), o.warmupMs + o.durationMs + 2 * o.drainMs + 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const { port } = await next('listening');
    const run = async (gateway: { pid: number; webhookUrl: string }): Promise<ChannelLeg> => {
      child.stdin.write(`${gateway.webhookUrl}\n`);
      await next('measuring');
      const gatewayCpu = cpuMeter(gateway.pid);
      await next('drained');
      const spent = gatewayCpu();
      const r = await next('result');
      const cpu: LegCpu = spent(r.completed);
      const goMs = msPerMessage(r.cpuMs / 1000, r.completed);
      return {
        channel: {
          // Closed loop only: one message in flight per chat never fills the channel's per-chat queue.
          sent: r.sent, rejected: r.rejected, completed: r.completed, busy: 0, lost: r.lost, duplicated: r.duplicated,
          messagesPerSec: r.messagesPerSec, latency: r.latencyMs,
        },
        cpu: { ...cpu, benchMs: Math.round((cpu.benchMs + goMs) * 1000) / 1000, goMs },
      };
    };
    return { apiRoot: `http://127.0.0.1:${port}`, run, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
