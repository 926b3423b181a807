/**
 * Entry point of an actor worker thread: one ActorSystem (host = its slot),
 * a Hub linked to the main thread and, through ports main hands over, to the
 * other workers. It beats a shared heartbeat counter and publishes its metrics
 * into shared memory, so main can detect a blocked loop and read metrics
 * without messaging.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { loadEnvelopeContext } from './envelope.js';
import { Hub } from './hub.js';
import type { LinkLimits } from './link.js';
import { HOST_METRIC_FIELDS } from './metrics.js';
import { ActorSystem, type SystemOptions } from './system.js';

export interface WorkerData {
  host: number;
  beat: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  heartbeatMs: number;
  statsMs: number;
  system: SystemOptions;
  link: Partial<LinkLimits>;
}

export type ControlMessage =
  | { ctl: 'ready' }
  | { ctl: 'stopped' }
  | { ctl: 'link'; host: number; port: MessagePort }
  | { ctl: 'down'; host: number }
  | { ctl: 'up'; host: number }
  | { ctl: 'shutdown'; deadlineMs: number };

if (parentPort === null) throw new Error('worker_host.js must run in a worker thread');
const port = parentPort;
const data = workerData as WorkerData;
const system = new ActorSystem({ ...data.system, host: data.host });
// Before any frame is read: every message this worker handles gets its context.
if (data.system.envelope !== undefined) system.envelope = await loadEnvelopeContext(data.system.envelope);
const hub = new Hub(system, { link: data.link });
hub.connect(0, port);

const beat = new Int32Array(data.beat);
const beatTimer = setInterval(() => {
  Atomics.add(beat, 0, 1);
  hub.settle();
}, data.heartbeatMs);
Atomics.add(beat, 0, 1);

const stats = new Float64Array(data.stats);
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
let elu = performance.eventLoopUtilization();
const statsTimer = setInterval(() => {
  const m = system.metrics;
  m.eventLoopLagMs = lag.count > 0 ? lag.percentile(99) / 1e6 : 0;
  lag.reset();
  const next = performance.eventLoopUtilization();
  m.eventLoopUtilization = performance.eventLoopUtilization(next, elu).utilization;
  m.linkQueueDepth = hub.queueDepth;
  elu = next;
  HOST_METRIC_FIELDS.forEach((field, i) => {
    stats[i] = m[field];
  });
}, data.statsMs);
statsTimer.unref();

const peers: MessagePort[] = [];

port.on('message', (m: Uint8Array | ControlMessage) => {
  if (m instanceof Uint8Array) {
    hub.receive(0, m);
    return;
  }
  switch (m.ctl) {
    case 'link': {
      const peer = m.port;
      const host = m.host;
      peers.push(peer);
      peer.on('message', (bytes: Uint8Array) => hub.receive(host, bytes));
      hub.connect(host, peer);
      break;
    }
    case 'down':
      hub.hostDown(m.host);
      break;
    case 'up':
      hub.hostUp(m.host);
      break;
    case 'shutdown':
      void system.shutdownLocal(m.deadlineMs).then(() => {
        hub.flushAll();
        clearInterval(beatTimer);
        clearInterval(statsTimer);
        lag.disable();
        setImmediate(() => {
          for (const p of peers) p.close();
          port.postMessage({ ctl: 'stopped' } satisfies ControlMessage);
        });
      });
      break;
    default:
      break;
  }
});

port.postMessage({ ctl: 'ready' } satisfies ControlMessage);
