/** The chat commands every channel understands, whatever the platform. */

export type ChannelCommand = 'new' | 'stop' | 'help';

export const HELP_TEXT = [
  'Commands:',
  '/new — start a fresh conversation',
  '/stop — stop the answer in progress',
  '/help — this list',
].join('\n');

/** The command a message holds (`/new`, `/new@my_bot`, Telegram's `/start`), if any. */
export function parseCommand(text: string): ChannelCommand | undefined {
  const m = /^\/([a-z]+)(?:@\S+)?\s*$/i.exec(text.trim());
  if (m === null) return undefined;
  const name = m[1].toLowerCase();
  if (name === 'new' || name === 'reset') return 'new';
  if (name === 'stop') return 'stop';
  if (name === 'help' || name === 'start') return 'help';
  return undefined;
}
