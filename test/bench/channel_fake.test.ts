// bench channel serves the platform fakes from uWebSockets.js (front: 'uws'): the same routes, answers, records and
// faults as the node:http front the channel tests use, reached here through the official SDK (grammY) and raw HTTP.
import { Api, GrammyError } from 'grammy';
import t from 'tap';
import { FakeSlack } from '../fakes/slack_platform.js';
import { FakeTelegram } from '../fakes/telegram_platform.js';

for (const front of ['node', 'uws'] as const) {
  t.test(`a fake Telegram on ${front} answers grammY alike`, async (t) => {
    const fake = new FakeTelegram(undefined, { front });
    await fake.start();
    t.teardown(() => fake.stop());
    const api = new Api(fake.token, { apiRoot: fake.url });
    const sent = await api.sendMessage(42, 'hello *there*');
    t.equal(sent.text, 'hello *there*');
    t.equal(sent.chat.id, 42);
    await api.editMessageText(42, sent.message_id, 'hello again');
    t.same(fake.inChat(42).map((m) => [m.text, m.edits]), [['hello again', ['hello again']]]);
    // Telegram's own refusal of an edit that changes nothing, as JSON with its status.
    const err = await api.editMessageText(42, sent.message_id, 'hello again').catch((e: unknown) => e);
    t.ok(err instanceof GrammyError && err.error_code === 400 && /not modified/.test(err.description), 'a 400 "not modified"');
    fake.fail({ status: 429, body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } } });
    const limited = await api.sendMessage(42, 'x').catch((e: unknown) => e);
    t.ok(limited instanceof GrammyError && limited.error_code === 429 && limited.parameters.retry_after === 1, 'a scripted 429 with retry_after');
    t.same(fake.callsOf('sendMessage').map((c) => c.params.text), ['hello *there*', 'x'], 'every call recorded with its JSON body');
    const wrong = await fetch(`${fake.url}/botWRONG/getMe`);
    t.equal(wrong.status, 401);
    t.equal(wrong.headers.get('content-type'), 'application/json');
  });

  t.test(`a fake Slack on ${front} reads form bodies and answers down as 502 text`, async (t) => {
    const fake = new FakeSlack(undefined, { front });
    await fake.start();
    t.teardown(() => fake.stop());
    const form = await fetch(`${fake.apiBase}chat.postMessage`, {
      method: 'POST', headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ channel: 'D1', text: 'hi' }).toString(),
    });
    t.equal(form.status, 200);
    t.match(await form.json(), { ok: true, channel: 'D1' });
    t.same(fake.inChat('D1').map((m) => m.text), ['hi']);
    fake.down = true;
    const down = await fetch(`${fake.apiBase}chat.postMessage`, { method: 'POST', body: '{}' });
    t.equal(down.status, 502);
    t.equal(await down.text(), 'Bad Gateway');
  });
}
