/** Turns an MCP CallToolResult into the text a model reads. */
import type { ToolResult } from '../types.js';

interface ContentBlock {
  type?: unknown;
  text?: unknown;
  mimeType?: unknown;
  data?: unknown;
  uri?: unknown;
  name?: unknown;
  resource?: { uri?: unknown; text?: unknown; mimeType?: unknown };
}

function blockText(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return typeof block.text === 'string' ? block.text : '';
    case 'image':
    case 'audio': {
      const bytes = typeof block.data === 'string' ? Math.floor((block.data.length * 3) / 4) : 0;
      return `[${block.type} ${String(block.mimeType ?? 'unknown')}, ~${bytes} bytes]`;
    }
    case 'resource': {
      const r = block.resource ?? {};
      return typeof r.text === 'string' ? `[resource ${String(r.uri)}]\n${r.text}` : `[resource ${String(r.uri)} ${String(r.mimeType ?? '')}]`;
    }
    case 'resource_link':
      return `[resource link ${String(block.name ?? '')} ${String(block.uri)}]`;
    default:
      return `[${String(block.type)} content]`;
  }
}

/** MCP output is from outside Troupe: always marked untrusted. */
export function mcpResultToToolResult(result: Record<string, unknown>): ToolResult {
  const blocks = Array.isArray(result.content) ? (result.content as ContentBlock[]) : [];
  let content = blocks.map(blockText).filter((s) => s !== '').join('\n');
  if (content === '' && result.structuredContent !== undefined) content = JSON.stringify(result.structuredContent);
  if (content === '' && 'toolResult' in result) content = JSON.stringify(result.toolResult);
  return {
    content,
    isError: result.isError === true,
    untrusted: true,
    data: result.structuredContent ?? (blocks.length > 0 ? { content: blocks } : undefined),
  };
}
