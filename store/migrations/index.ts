import { migration001 } from './001_init.js';
import { migration002 } from './002_channels.js';
import { migration003 } from './003_usage.js';
import { migration004 } from './004_teams.js';
import { migration005 } from './005_memory_vectors.js';
import { migration007 } from './007_memory_text_search.js';
import { migration008 } from './008_admin_config.js';
import { migration009 } from './009_usage_turn.js';
import { migration010 } from './010_mcp_seeds.js';
import { migration011 } from './011_message_reply.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

/** Every migration, in order. Append new ones; never edit an applied one (checksums). */
export const migrations: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration007, migration008, migration009, migration010, migration011];
