/**
 * The chat playground: a message goes out as `chat.send` on the WebSocket, and
 * the run's events come back as they happen: text deltas into the reply, tool
 * calls as they start and end, then the tokens used and the latency (time to
 * the first token, and to the end) measured here in the browser.
 */
import { errorText, fill, h, notice } from './dom.js';
import type { Page } from './page.js';
import type { Rpc } from './rpc.js';

interface Turn {
  runId: string;
  reply: HTMLElement;
  tools: HTMLElement;
  meta: HTMLElement;
  sentAt: number;
  firstAt: number | undefined;
  toolRows: Map<string, HTMLElement>;
}

/** Transcript entries kept on the page; older ones are dropped from the top. */
const MAX_TURNS = 200;

export const chatPage: Page = {
  id: 'chat',
  title: 'Chat',
  async render(root, ctx) {
    const agent = h('select', { id: 'chat-agent', 'aria-label': 'Agent' }, h('option', { value: '' }, '(default agent)'));
    const session = h('input', { id: 'chat-session', 'aria-label': 'Session', list: 'chat-sessions', placeholder: 'session (empty: your main session)', value: 'console' });
    const sessions = h('datalist', { id: 'chat-sessions' });
    const message = h('textarea', { id: 'chat-message', 'aria-label': 'Message', rows: 3, placeholder: 'Say something (Ctrl+Enter sends)' });
    const send = h('button', { id: 'chat-send', type: 'submit' }, 'Send');
    const abort = h('button', { id: 'chat-abort', type: 'button', class: 'secondary', disabled: true }, 'Stop');
    const transcript = h('div', { id: 'chat-transcript', class: 'transcript', 'aria-live': 'polite' });
    const status = h('div', { class: 'status' });
    const form = h('form', { class: 'chat-form' },
      h('div', { class: 'row' }, h('label', {}, 'Agent ', agent), h('label', {}, 'Session ', session), sessions),
      message,
      h('div', { class: 'row' }, send, abort),
    );
    fill(root, h('h1', {}, 'Chat playground'), transcript, status, form);

    let rpc: Rpc;
    try {
      rpc = await ctx.rpc();
      const listed = await rpc.call('agents.list');
      for (const a of (listed.agents as { id: string; description?: string }[] | undefined) ?? []) {
        agent.append(h('option', { value: a.id }, a.description === undefined ? a.id : `${a.id} — ${a.description}`));
      }
      const known = await rpc.call('sessions.list');
      for (const s of (known.sessions as { sessionKey: string }[] | undefined) ?? []) sessions.append(h('option', { value: s.sessionKey }));
    } catch (err) {
      fill(status, notice('error', `Chat is unavailable: ${errorText(err)}`));
      send.disabled = true;
      return;
    }

    const turns = new Map<string, Turn>();
    let current: string | undefined;
    const off = rpc.on((event, p) => {
      const turn = typeof p.runId === 'string' ? turns.get(p.runId) : undefined;
      if (event === 'closed') {
        fill(status, notice('error', 'The connection closed; open the page again to reconnect.'));
        send.disabled = true;
        return;
      }
      if (turn === undefined) return;
      if (event === 'chat.delta') {
        turn.firstAt ??= performance.now();
        turn.reply.append(String(p.delta ?? ''));
      } else if (event === 'chat.tool') {
        toolEvent(turn, p);
      } else if (event === 'chat.final' || event === 'chat.error') {
        if (event === 'chat.final' && turn.reply.textContent === '') turn.reply.textContent = String(p.text ?? '');
        if (event === 'chat.error') {
          const e = (p.error ?? {}) as { code?: string; message?: string };
          turn.reply.append(notice('error', `${e.code ?? 'ERROR'}: ${e.message ?? ''}`));
        }
        fill(turn.meta, metaLine(turn, p, event === 'chat.final' ? String(p.stopReason ?? 'stop') : 'error'));
        turn.meta.classList.add('done');
        turns.delete(turn.runId);
        if (current === turn.runId) {
          current = undefined;
          send.disabled = false;
          abort.disabled = true;
        }
      }
    });
    ctx.onLeave(off);

    abort.addEventListener('click', () => {
      if (current !== undefined) rpc.call('chat.abort', { runId: current }).catch((err: unknown) => fill(status, notice('error', errorText(err))));
    });
    message.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
    });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = message.value.trim();
      if (text === '' || current !== undefined) return;
      fill(status);
      const entry = h('div', { class: 'turn' });
      const reply = h('div', { class: 'reply' });
      const tools = h('ul', { class: 'tools' });
      const meta = h('div', { class: 'meta' }, 'waiting…');
      entry.append(h('div', { class: 'user' }, text), tools, reply, meta);
      transcript.append(entry);
      while (transcript.childElementCount > MAX_TURNS) transcript.firstElementChild?.remove();
      entry.scrollIntoView({ block: 'end' });
      message.value = '';
      send.disabled = true;
      const params: Record<string, unknown> = { message: text };
      if (agent.value !== '') params.agent = agent.value;
      if (session.value.trim() !== '') params.sessionKey = session.value.trim();
      const sentAt = performance.now();
      rpc.call('chat.send', params).then(
        (accepted) => {
          const runId = String(accepted.runId);
          current = runId;
          abort.disabled = false;
          entry.dataset.runId = runId;
          entry.dataset.session = String(accepted.sessionKey ?? '');
          turns.set(runId, { runId, reply, tools, meta, sentAt, firstAt: undefined, toolRows: new Map() });
          meta.textContent = `run ${runId} in session ${String(accepted.sessionKey ?? '')}…`;
        },
        (err: unknown) => {
          reply.append(notice('error', errorText(err)));
          meta.textContent = '';
          send.disabled = false;
        },
      );
    });
  },
};

function toolEvent(turn: Turn, p: Record<string, unknown>): void {
  const key = String(p.callId ?? p.name);
  if (p.phase === 'start') {
    const row = h('li', { class: 'tool running' },
      h('strong', {}, String(p.name)), ' ', h('code', {}, String(p.arguments ?? '')),
    );
    turn.toolRows.set(key, row);
    turn.tools.append(row);
    return;
  }
  const row = turn.toolRows.get(key) ?? h('li', { class: 'tool' }, h('strong', {}, String(p.name)));
  if (!row.isConnected) turn.tools.append(row);
  row.classList.remove('running');
  row.classList.add(p.ok === false ? 'failed' : 'ok');
  row.append(' → ', h('code', {}, String(p.result ?? (p.ok === false ? 'failed' : 'ok'))));
}

function metaLine(turn: Turn, p: Record<string, unknown>, stop: string): string {
  const done = performance.now();
  const usage = (p.usage ?? {}) as { inputTokens?: number; outputTokens?: number; cachedTokens?: number };
  const parts: string[] = [];
  if (usage.inputTokens !== undefined || usage.outputTokens !== undefined) {
    parts.push(`${usage.inputTokens ?? 0} in / ${usage.outputTokens ?? 0} out tokens${usage.cachedTokens ? ` (${usage.cachedTokens} cached)` : ''}`);
  }
  if (turn.firstAt !== undefined) parts.push(`first token ${Math.round(turn.firstAt - turn.sentAt)} ms`);
  parts.push(`total ${Math.round(done - turn.sentAt)} ms`);
  if (typeof p.model === 'string') parts.push(`${typeof p.provider === 'string' ? `${p.provider}/` : ''}${p.model}`);
  parts.push(stop);
  return parts.join(' · ');
}
