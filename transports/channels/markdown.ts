/**
 * The agent's Markdown, rendered into a chat platform's markup. One small
 * tokenizer (fenced code blocks, then inline code, bold, italic, strike,
 * links and headings) feeds a per-platform `MarkupRules`, which owns the
 * escaping its platform requires. Anything the tokenizer does not recognise
 * is plain text and is escaped, so the output is always well formed, even
 * for a half-streamed reply with an unclosed fence or `**`.
 */

export interface MarkupRules {
  /** Plain text, escaped for the platform. */
  text(s: string): string;
  bold(inner: string): string;
  italic(inner: string): string;
  strike(inner: string): string;
  /** Inline code; `code` is raw (escape it as the platform needs inside code). */
  code(code: string): string;
  /** A fenced block; `code` is raw. */
  pre(code: string, lang: string): string;
  link(inner: string, url: string): string;
  heading(inner: string): string;
}

const FENCE = /^ {0,3}(```|~~~)\s*([\w+#.-]*)\s*$/;

/** Splits Markdown into fenced code blocks and the text between them. */
export function markdownBlocks(md: string): { code: boolean; text: string; lang: string }[] {
  const out: { code: boolean; text: string; lang: string }[] = [];
  const lines = md.split('\n');
  let buf: string[] = [];
  let fence: string | undefined;
  let lang = '';
  const flush = (code: boolean) => {
    if (buf.length > 0 || code) out.push({ code, text: buf.join('\n'), lang });
    buf = [];
  };
  for (const line of lines) {
    const m = FENCE.exec(line);
    if (fence === undefined && m !== null) {
      flush(false);
      fence = m[1];
      lang = m[2];
    } else if (fence !== undefined && m !== null && m[1] === fence && m[2] === '') {
      flush(true);
      fence = undefined;
      lang = '';
    } else buf.push(line);
  }
  // An unclosed fence (a reply still streaming) is still code.
  flush(fence !== undefined);
  return out;
}

const INLINE = /(`+)([^`]+?)\1|\*\*(?=\S)([^*]+?)\*\*|__(?=\S)([^_]+?)__|~~(?=\S)([^~]+?)~~|(?<![\w*])\*(?=\S)([^*\n]+?)\*(?![\w*])|(?<![\w_])_(?=\S)([^_\n]+?)_(?![\w_])|\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g;

function renderInline(s: string, r: MarkupRules): string {
  let out = '';
  let last = 0;
  for (const m of s.matchAll(INLINE)) {
    out += r.text(s.slice(last, m.index));
    if (m[2] !== undefined) out += r.code(m[2]);
    else if (m[3] !== undefined || m[4] !== undefined) out += r.bold(renderInline(m[3] ?? m[4], r));
    else if (m[5] !== undefined) out += r.strike(renderInline(m[5], r));
    else if (m[6] !== undefined || m[7] !== undefined) out += r.italic(renderInline(m[6] ?? m[7], r));
    else out += r.link(renderInline(m[8], r), m[9]);
    last = m.index + m[0].length;
  }
  return out + r.text(s.slice(last));
}

export function renderMarkdown(md: string, rules: MarkupRules): string {
  return markdownBlocks(md).map((b) => {
    if (b.code) return rules.pre(b.text, b.lang);
    return b.text.split('\n').map((line) => {
      const h = /^ {0,3}#{1,6}\s+(.*)$/.exec(line);
      return h === null ? renderInline(line, rules) : rules.heading(renderInline(h[1], rules));
    }).join('\n');
  }).join('\n');
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Telegram Bot API `parse_mode: "HTML"`: only &, < and > need escaping, everywhere. */
export const TELEGRAM_HTML: MarkupRules = {
  text: escapeHtml,
  bold: (s) => `<b>${s}</b>`,
  italic: (s) => `<i>${s}</i>`,
  strike: (s) => `<s>${s}</s>`,
  code: (s) => `<code>${escapeHtml(s)}</code>`,
  pre: (s, lang) => (lang === '' ? `<pre>${escapeHtml(s)}</pre>` : `<pre><code class="language-${escapeHtml(lang)}">${escapeHtml(s)}</code></pre>`),
  link: (s, url) => `<a href="${escapeHtml(url).replace(/"/g, '&quot;')}">${s}</a>`,
  heading: (s) => `<b>${s}</b>`,
};

/** Slack mrkdwn: &, < and > are control characters everywhere, code included. */
export const SLACK_MRKDWN: MarkupRules = {
  text: escapeHtml,
  bold: (s) => `*${s}*`,
  italic: (s) => `_${s}_`,
  strike: (s) => `~${s}~`,
  code: (s) => `\`${escapeHtml(s)}\``,
  pre: (s) => `\`\`\`\n${escapeHtml(s)}\n\`\`\``,
  link: (s, url) => `<${escapeHtml(url).replace(/\|/g, '%7C')}|${s}>`,
  heading: (s) => `*${s}*`,
};

/** A link as text: the URL alone when it is its own label, else "label (url)". */
const spelledLink = (s: string, url: string): string => (s === url ? url : `${s} (${url})`);

/** WhatsApp's own markup (`*bold* _italic_ ~strike~ ```mono```), which needs no escaping; links are spelled out. */
export const WHATSAPP_MARKUP: MarkupRules = {
  text: (s) => s,
  bold: (s) => `*${s}*`,
  italic: (s) => `_${s}_`,
  strike: (s) => `~${s}~`,
  code: (s) => `\`${s}\``,
  pre: (s) => `\`\`\`\n${s}\n\`\`\``,
  link: spelledLink,
  heading: (s) => `*${s}*`,
};

/** Plain text (Zalo): markers dropped, code verbatim, links spelled out. */
export const PLAIN_TEXT: MarkupRules = {
  text: (s) => s,
  bold: (s) => s,
  italic: (s) => s,
  strike: (s) => s,
  code: (s) => s,
  pre: (s) => s,
  link: spelledLink,
  heading: (s) => s,
};
