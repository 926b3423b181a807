/**
 * Registry-agnostic runtime metrics: plain numbers that the kernel bumps on its
 * hot paths, read as snapshots by whoever exports them (the gateway maps them
 * to prom-client). Counters only grow; gauges are current values.
 */

export interface HostMetricsSnapshot {
  host: number;
  /** counters */
  processed: number;
  deadLetters: number;
  dropped: number;
  restarts: number;
  failures: number;
  escalations: number;
  spawned: number;
  stopped: number;
  /** Tells from this host that another host's full mailbox refused and sent back (the sender was told). */
  rejected: number;
  /** Tells and asks refused on this host because the link to their target's host was full (the caller got OVERLOADED). */
  linkRejected: number;
  /** Messages this host sent to a worker that died before confirming it had taken them (it may have handled some). */
  unconfirmed: number;
  /** gauges */
  actors: number;
  mailboxDepth: number;
  eventLoopLagMs: number;
  eventLoopUtilization: number;
  /** Messages this host sent to other hosts that they have not yet taken off the link. */
  linkQueueDepth: number;
}

export interface RuntimeMetricsSnapshot {
  hosts: HostMetricsSnapshot[];
  workerReplacements: number;
  pendingAsks: number;
}

export class HostMetrics {
  processed = 0;
  deadLetters = 0;
  dropped = 0;
  restarts = 0;
  failures = 0;
  escalations = 0;
  spawned = 0;
  stopped = 0;
  rejected = 0;
  linkRejected = 0;
  unconfirmed = 0;
  actors = 0;
  mailboxDepth = 0;
  eventLoopLagMs = 0;
  eventLoopUtilization = 0;
  linkQueueDepth = 0;

  constructor(readonly host: number) {}

  snapshot(): HostMetricsSnapshot {
    return {
      host: this.host,
      processed: this.processed,
      deadLetters: this.deadLetters,
      dropped: this.dropped,
      restarts: this.restarts,
      failures: this.failures,
      escalations: this.escalations,
      spawned: this.spawned,
      stopped: this.stopped,
      rejected: this.rejected,
      linkRejected: this.linkRejected,
      unconfirmed: this.unconfirmed,
      actors: this.actors,
      mailboxDepth: this.mailboxDepth,
      eventLoopLagMs: this.eventLoopLagMs,
      eventLoopUtilization: this.eventLoopUtilization,
      linkQueueDepth: this.linkQueueDepth,
    };
  }
}

/** Order of the numeric fields when a snapshot travels as a Float64Array (worker → main). */
export const HOST_METRIC_FIELDS = [
  'processed', 'deadLetters', 'dropped', 'restarts', 'failures', 'escalations', 'spawned', 'stopped',
  'rejected', 'linkRejected', 'actors', 'mailboxDepth', 'eventLoopLagMs', 'eventLoopUtilization', 'linkQueueDepth', 'unconfirmed',
] as const;
