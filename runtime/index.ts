/**
 * runtime/: the actor kernel. A general-purpose library: it knows nothing about
 * AI, HTTP or databases and imports nothing of Troupe's other layers.
 */
export { ActorSystem, MAX_HOSTS } from './system.js';
export type { SystemOptions, DeadLetter, SystemEvent, RemoteHub } from './system.js';
export { ActorRef } from './ref.js';
export type { AskOptions, RefData } from './ref.js';
export { isRejected, isTerminated } from './behavior.js';
export type {
  ActorContext, Behavior, BehaviorFactory, ModuleProps, Placement, Props, Replier, RestartType, SpawnOptions,
  SupervisionStrategy, SupervisorSpec, Terminated, TerminationReason, MailboxOptions, Rejected,
} from './behavior.js';
export type { OverflowPolicy } from './mailbox.js';
export type { EnvelopeContext, EnvelopeContextSpec } from './envelope.js';
export {
  RuntimeError, AskTimeoutError, MailboxFullError, LinkFullError, UnavailableError, ActorNotFoundError, ActorFailedError,
} from './errors.js';
export type { RuntimeErrorCode } from './errors.js';
export type { HostMetricsSnapshot, RuntimeMetricsSnapshot } from './metrics.js';
export type { LinkLimits } from './link.js';
export { TaskPool, DEFAULT_TASK_TIMEOUT_MS, DEFAULT_TASK_MAX_QUEUE, DEFAULT_TASK_OLD_GENERATION_MB } from './tasks.js';
export type { TaskPoolOptions, TaskResourceLimits, TaskSpec, TaskRunOptions, TaskPoolMetricsSnapshot } from './tasks.js';
export {
  TaskTimeoutError, TaskAbortedError, TaskOutOfMemoryError, TaskQueueFullError, TaskFailedError, InvalidTaskError,
} from './task_errors.js';
