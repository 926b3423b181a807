/**
 * Which tools a session may see and call. Allow and deny lists name tools or
 * groups (`group:fs`); deny always wins. With no allow list every tool not
 * denied is allowed; with one, only what it names.
 */
import type { ToolDefinition } from './types.js';

export interface ToolPolicyConfig {
  /** Tool names and `group:<name>` entries; omitted means "everything". */
  allow?: readonly string[];
  deny?: readonly string[];
}

const GROUP_PREFIX = 'group:';

interface Lists {
  names: Set<string>;
  groups: Set<string>;
}

function split(entries: readonly string[]): Lists {
  const lists: Lists = { names: new Set(), groups: new Set() };
  for (const entry of entries) {
    if (entry.startsWith(GROUP_PREFIX)) lists.groups.add(entry.slice(GROUP_PREFIX.length));
    else lists.names.add(entry);
  }
  return lists;
}

function hits(lists: Lists, tool: Pick<ToolDefinition, 'name' | 'group'>): boolean {
  return lists.names.has(tool.name) || (tool.group !== undefined && lists.groups.has(tool.group));
}

export class ToolPolicy {
  readonly #allow: Lists | null;
  readonly #deny: Lists;

  constructor(config: ToolPolicyConfig = {}) {
    this.#allow = config.allow === undefined ? null : split(config.allow);
    this.#deny = split(config.deny ?? []);
  }

  /** Null when the tool is allowed, else why not ('denied' or 'not_allowed'). */
  refusal(tool: Pick<ToolDefinition, 'name' | 'group'>): 'denied' | 'not_allowed' | null {
    if (hits(this.#deny, tool)) return 'denied';
    if (this.#allow !== null && !hits(this.#allow, tool)) return 'not_allowed';
    return null;
  }

  allows(tool: Pick<ToolDefinition, 'name' | 'group'>): boolean {
    return this.refusal(tool) === null;
  }
}
