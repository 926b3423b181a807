/**
 * A page's list of the tenant's resources (agents, providers, MCP servers, API
 * keys): one GET, shown as a table, or the refusal in its place.
 */
import { api } from './api.js';
import { errorText, fill, notice, table, type Column } from './dom.js';

/** Fetches `path` (`{ data: T[] }`) into `into` as a table; resolves with the rows, or none when the call failed. */
export async function listInto<T>(into: HTMLElement, path: string, columns: Column<T>[], empty: string): Promise<T[]> {
  try {
    const { data } = await api<{ data: T[] }>('GET', path);
    fill(into, table<T>(columns, data, empty));
    return data;
  } catch (err) {
    fill(into, notice('error', errorText(err)));
    return [];
  }
}
