import type { Migration } from './migration.js';

/**
 * A chat turn's user message and the assistant's reply are written as one row:
 * the reply is a column of the user's row (store/repos/messages.ts `append`).
 * A row is most of what a turn costs the store worker (its heap tuple, two
 * index entries, the session foreign-key check and the RLS check), and a turn
 * wrote two (bench/RESULTS.md, issue 12). Rows written before this migration,
 * and messages written apart (a reply that came in a later batch), have none.
 */
const sql = String.raw`
ALTER TABLE messages
  ADD COLUMN reply text,
  ADD CONSTRAINT messages_reply_to_user CHECK (reply IS NULL OR role = 'user');
`;

export const migration011: Migration = { version: 11, name: 'message_reply', sql };
