/**
 * `--fault worker-kill`: one side connection asks the gateway (started with
 * TROUPE_ENABLE_FAULTS=1) to kill an actor worker mid-load. The gateway
 * answers once the replacement is up, with how long that took.
 */
import WebSocket from 'ws';

export interface FaultAnswer {
  host: number;
  replacementMs: number | null;
}

export class FaultError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

interface Res { type?: string; id?: unknown; ok?: boolean; payload?: { host?: unknown; replacementMs?: unknown }; error?: { code?: string; message?: string } }

export function injectWorkerKill(url: string, token: string | undefined, timeoutMs = 20_000): Promise<FaultAnswer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
    const timer = setTimeout(() => finish(new FaultError('TIMEOUT', 'admin.fault got no answer in time')), timeoutMs);
    const finish = (r: FaultAnswer | Error) => {
      clearTimeout(timer);
      ws.terminate();
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    ws.on('error', (err) => finish(new FaultError('UNAVAILABLE', `fault connection failed: ${err.message}`)));
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'req', id: 1, method: 'connect', params: token === undefined ? {} : { token } }));
    });
    ws.on('message', (data) => {
      let f: Res;
      try {
        f = JSON.parse(String(data)) as Res;
      } catch {
        return;
      }
      if (f.type !== 'res') return;
      if (!f.ok) return finish(new FaultError(f.error?.code ?? 'INTERNAL', `${f.id === 1 ? 'connect' : 'admin.fault'} refused: ${f.error?.message ?? 'unknown error'}`));
      if (f.id === 1) {
        ws.send(JSON.stringify({ type: 'req', id: 2, method: 'admin.fault', params: { kind: 'worker-kill' } }));
        return;
      }
      if (f.id !== 2) return;
      const host = f.payload?.host;
      const ms = f.payload?.replacementMs;
      if (typeof host !== 'number') return finish(new FaultError('INTERNAL', 'admin.fault answered without a host'));
      finish({ host, replacementMs: typeof ms === 'number' ? ms : null });
    });
  });
}
