/** Maps what the MCP SDK throws to ToolErrors with catalogue codes. */
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { ToolError, toToolError } from '../errors.js';

export function mcpError(err: unknown, server: string, signal?: AbortSignal): ToolError {
  if (err instanceof ToolError) return err;
  if (signal?.aborted === true && signal.reason instanceof ToolError) return signal.reason;
  if (err instanceof McpError) {
    const where = `mcp server ${server}`;
    switch (err.code) {
      case ErrorCode.RequestTimeout:
        return new ToolError('TIMEOUT', 'mcp_timeout', `${where} did not answer in time`, { cause: err });
      case ErrorCode.ConnectionClosed:
        return new ToolError('UNAVAILABLE', 'mcp_connection_closed', `${where} closed the connection`, { cause: err });
      case ErrorCode.InvalidParams:
      case ErrorCode.InvalidRequest:
        return new ToolError('INVALID_REQUEST', 'mcp_invalid_params', `${where}: ${err.message}`, { cause: err });
      case ErrorCode.MethodNotFound:
        return new ToolError('NOT_FOUND', 'mcp_method_not_found', `${where}: ${err.message}`, { cause: err });
      default:
        return new ToolError('INTERNAL', 'mcp_error', `${where}: ${err.message}`, { cause: err });
    }
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE') {
    return new ToolError('UNAVAILABLE', 'mcp_connection_lost', `mcp server ${server} is unreachable`, { cause: err });
  }
  return toToolError(err, `mcp server ${server}`);
}
