/** Public surface of the front door; the gateway imports only from here. */
export { createFrontDoor, type FrontDoor, type FrontDoorOptions, type FrontDoorStats } from './server.js';
export { DEFAULT_CONFIG, type FrontDoorConfig } from './config.js';
export type { FrontDoorLogger, Limiters } from './context.js';
export { detectEngine, type Engine } from './engine.js';
export type {
  AgentInfo, Caller, ChatEventMap, ChatEventName, ChatRunner, ChatSendParams, ClientToolCall, ClientToolSpec, ConversationMessage, EventSink, GatewayBackend,
  RunAccepted, RunEnd, RunOutcome, RunProgress, RunTarget, StartedRun, Usage,
} from './backend.js';
export { abortRun, chatRunner, startRun } from './chat_run.js';
export type { BudgetGate, UsageGroupBy, UsageLedger, UsageSummaryQuery, UsageSummaryRow } from './usage.js';
export { CONSOLE_CSP, type ConsoleAssets, type ConsoleFile } from './http_console.js';
export { parseUsageQuery, MAX_USAGE_RANGE_DAYS } from './http_usage.js';
export { ERROR_CATALOGUE, ERROR_CODES, TroupeError, toWireError, httpStatusOf, type ErrorCode, type WireError } from './errors.js';
export { MSGPACK_SUBPROTOCOL, JSON_SUBPROTOCOL } from './codec.js';
