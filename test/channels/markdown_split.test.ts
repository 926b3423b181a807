// Markdown rendering per platform and splitting at a platform's limit.
import t from 'tap';
import { PLAIN_TEXT, renderMarkdown, SLACK_MRKDWN, TELEGRAM_HTML, WHATSAPP_MARKUP } from '../../transports/channels/markdown.js';
import { renderChunks, splitMarkdown } from '../../transports/channels/split.js';

t.test('Telegram HTML: markup converted, &, < and > escaped everywhere', async (t) => {
  t.equal(renderMarkdown('**bold** and _it_ and `a<b` & [x](https://e.com/?a=1&b=2)', TELEGRAM_HTML),
    '<b>bold</b> and <i>it</i> and <code>a&lt;b</code> &amp; <a href="https://e.com/?a=1&amp;b=2">x</a>');
  t.equal(renderMarkdown('# Title\n```js\nif (a < b) {}\n```', TELEGRAM_HTML), '<b>Title</b>\n<pre><code class="language-js">if (a &lt; b) {}</code></pre>');
  t.equal(renderMarkdown('unclosed ```\ncode <x>', TELEGRAM_HTML), 'unclosed ```\ncode &lt;x&gt;', 'a fence must start a line');
  t.equal(renderMarkdown('```\nstill streaming <x>', TELEGRAM_HTML), '<pre>still streaming &lt;x&gt;</pre>', 'an unclosed fence renders closed');
});

t.test('Slack mrkdwn: bold, italic, strike, links, control characters escaped', async (t) => {
  t.equal(renderMarkdown('**b** *i* ~~s~~ [site](https://e.com/a|b) 1 < 2 & 3 > 2', SLACK_MRKDWN),
    '*b* _i_ ~s~ <https://e.com/a%7Cb|site> 1 &lt; 2 &amp; 3 &gt; 2');
});

t.test('WhatsApp: its own markers, code kept as code, links spelled out, nothing escaped', async (t) => {
  t.equal(renderMarkdown('# Plan\n**b** *i* ~~s~~ `x*y` 1 < 2 [site](https://e.com) [https://e.com](https://e.com)', WHATSAPP_MARKUP),
    '*Plan*\n*b* _i_ ~s~ `x*y` 1 < 2 site (https://e.com) https://e.com');
  t.equal(renderMarkdown('```js\nif (a **b**) {}\n```', WHATSAPP_MARKUP), '```\nif (a **b**) {}\n```', 'a fence stays verbatim, its language dropped');
});

t.test('plain text (Zalo): markers dropped, code verbatim, links spelled out', async (t) => {
  t.equal(renderMarkdown('## Plan\n**b** _i_ ~~s~~ `a_b` [site](https://e.com)\n```\nx = **1**\n```', PLAIN_TEXT),
    'Plan\nb i s a_b site (https://e.com)\nx = **1**');
});

t.test('splitting prefers paragraphs, then sentences, and loses no text', async (t) => {
  const para = 'First sentence here. Second sentence here.';
  const md = [para, para, para].join('\n\n');
  const pieces = splitMarkdown(md, 100);
  t.ok(pieces.every((p) => p.length <= 100));
  t.equal(pieces[0], `${para}\n\n${para}`, 'cut between paragraphs');
  t.equal(pieces.join('\n\n'), md);
  const sentences = splitMarkdown('One two three. Four five six. Seven eight nine.', 32);
  t.equal(sentences[0], 'One two three. Four five six.', 'cut after a sentence');
});

t.test('a code block is never cut open', async (t) => {
  const code = '```ts\n' + Array.from({ length: 8 }, (_, i) => `const v${i} = ${i};`).join('\n') + '\n```';
  const md = `Intro text that takes room.\n\n${code}\n\nOutro.`;
  const pieces = splitMarkdown(md, 140);
  for (const p of pieces) {
    t.ok(p.length <= 140);
    t.equal((p.match(/```/g) ?? []).length % 2, 0, `balanced fences in ${JSON.stringify(p.slice(0, 20))}`);
  }
  t.ok(pieces.some((p) => p.includes(code)), 'a block that fits moves whole');
  const big = '```\n' + Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n') + '\n```';
  const cut = splitMarkdown(big, 100);
  t.ok(cut.length > 1);
  for (const p of cut) t.match(p, /^```\n[\s\S]*\n```$/, 'each piece of a long block is its own block');
  t.equal(cut.map((p) => p.slice(4, -4)).join('\n'), big.slice(4, -4), 'every line kept');
});

t.test('pieces stay within the limit after escaping', async (t) => {
  const md = '<&> '.repeat(500);
  const pieces = renderChunks(md, 400, (s) => renderMarkdown(s, TELEGRAM_HTML));
  t.ok(pieces.length > 5);
  for (const p of pieces) t.ok(p.length <= 400, `${p.length}`);
});
