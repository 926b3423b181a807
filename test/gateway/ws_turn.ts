// One chat turn over a real WebSocket, shared by the gateway end-to-end tests.
import WebSocket from 'ws';

export interface TurnEvent {
  event: string;
  payload: Record<string, unknown>;
}

export interface TurnResult {
  /** The response to chat.send (absent if the run ended first). */
  res?: { ok: boolean; error?: { code: string } };
  /** Every event of the run, in order; the last is chat.final or chat.error unless the send was refused. */
  events: TurnEvent[];
}

/**
 * Connects with `token`, sends `connect` then `chat.send` with `params`, and
 * resolves when the run ends (or the send is refused); the socket is closed.
 */
export async function wsTurn(port: number, token: string, params: Record<string, unknown>): Promise<TurnResult> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`);
  const result: TurnResult = { events: [] };
  const done = new Promise<void>((resolve) => ws.on('message', (d) => {
    const f = JSON.parse(String(d)) as { type: string; id?: string; ok: boolean; error?: { code: string }; event?: string; payload: Record<string, unknown> };
    if (f.type === 'res' && f.id === '2') {
      result.res = f;
      if (!f.ok) resolve();
    }
    if (f.type === 'event' && f.event) result.events.push({ event: f.event, payload: f.payload });
    if (f.event === 'chat.final' || f.event === 'chat.error') resolve();
  }));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  ws.send(JSON.stringify({ type: 'req', id: '1', method: 'connect', params: {} }));
  ws.send(JSON.stringify({ type: 'req', id: '2', method: 'chat.send', params }));
  await done;
  ws.close();
  return result;
}
