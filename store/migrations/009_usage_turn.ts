import type { Migration } from './migration.js';

/**
 * A usage row is the record of a chat turn: it gains the session key, the
 * client's address and how the turn ended (the stop reason of chat.final, or
 * the error code of chat.error). The audit log's per-turn `chat.turn` row said
 * the same things a second time, and a row is most of what a turn costs the
 * store worker (bench/RESULTS.md, issue 12), so turns are written once, here.
 * Nullable: rows written before this migration have none of the three.
 */
const sql = String.raw`
ALTER TABLE usage_events
  ADD COLUMN session_key text CHECK (session_key IS NULL OR length(session_key) BETWEEN 1 AND 512),
  ADD COLUMN source_ip   text CHECK (source_ip IS NULL OR length(source_ip) BETWEEN 1 AND 64),
  ADD COLUMN end_reason  text CHECK (end_reason IS NULL OR length(end_reason) BETWEEN 1 AND 64);
`;

export const migration009: Migration = { version: 9, name: 'usage_turn', sql };
