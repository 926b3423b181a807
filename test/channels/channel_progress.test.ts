// A channel asks its runs only for the events its replies read: the text as it
// streams where the platform edits a reply in place, the final answer alone
// where the reply is sent whole. Events not asked for are never produced, so
// they cost no thread hop (actors/agent.ts drops them at the source).
import t from 'tap';
import { Registry } from 'prom-client';
import type { RunProgress } from '../../transports/backend.js';
import { MemoryPairingStore } from '../../transports/channels/access.js';
import type { ChannelAdapter, InboundMessage } from '../../transports/channels/adapter.js';
import { Channel, type ChannelRunner } from '../../transports/channels/channel.js';
import type { ChannelSpec } from '../../transports/channels/config.js';
import { LocalDeduper } from '../../transports/channels/dedup.js';
import { createChannelMetrics } from '../../transports/channels/metrics.js';

const SPEC: ChannelSpec = {
  id: 'c', platform: 'whatsapp', tenant: 't', access: { mode: 'open', users: [] }, groups: { respond: 'mention' }, credentials: {},
  rate: { perChatPerSecond: 1000, perBotPerSecond: 1000 },
};

const MESSAGE: InboundMessage = { eventId: 'e1', chatId: 'chat', userId: 'u', chatType: 'direct', kind: 'text', text: 'hello', addressed: true };

/** An adapter that records what it sends; `canEdit` picks a streaming or a whole-reply platform. */
function adapter(canEdit: boolean, sent: string[], onSent: () => void): ChannelAdapter {
  return {
    platform: 'whatsapp',
    limits: { maxChars: 4096, canEdit, perChatPerSecond: 1000, perBotPerSecond: 1000 },
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    render: (md) => md,
    send: (_chat, text) => {
      sent.push(text);
      onSent();
      return Promise.resolve({ messageId: String(sent.length) });
    },
    ...(canEdit ? { edit: () => Promise.resolve() } : {}),
  };
}

/** Runs one message through a channel whose runner answers at once; returns what the runner was asked for and what was sent. */
async function answer(canEdit: boolean): Promise<{ progress: RunProgress | undefined; sent: string[] }> {
  const sent: string[] = [];
  let progress: RunProgress | undefined;
  let answered!: () => void;
  const done = new Promise<void>((resolve) => {
    answered = resolve;
  });
  const runner: ChannelRunner = {
    start: (_p, params, sink) => {
      progress = params.progress;
      queueMicrotask(() => sink('chat.final', { runId: 'r1', text: 'the whole answer' }));
      return Promise.resolve({ runId: 'r1' });
    },
    abort: () => Promise.resolve(false),
  };
  const channel = new Channel(SPEC, adapter(canEdit, sent, answered), {
    runner, pairings: new MemoryPairingStore(), dedup: new LocalDeduper(), metrics: createChannelMetrics(new Registry()),
    audit: () => undefined, log: () => undefined, editIntervalMs: 40,
  });
  channel.deliver([MESSAGE]);
  await done;
  await channel.stop();
  return { progress, sent };
}

t.test('a platform that edits replies in place asks for the text as it streams, not for tool events', async (t) => {
  const { progress, sent } = await answer(true);
  t.equal(progress, 'text');
  t.same(sent, ['the whole answer']);
});

t.test('a platform whose replies are sent whole asks for the final answer only', async (t) => {
  const { progress, sent } = await answer(false);
  t.equal(progress, 'none');
  t.same(sent, ['the whole answer']);
});
