/**
 * Deny-list screening of shell commands an agent wants to run. This is a tripwire in front
 * of the sandbox, not the sandbox: it catches the well-known destructive, exfiltrating and
 * escalating forms, including common obfuscations, so they are refused and logged early.
 *
 * Each command is looked at in three views:
 *   raw       whitespace collapsed, otherwise as written (sees `$'\x72m'`, `$IFS`, `\x..`)
 *   text      quotes and backslashes removed, `$IFS` turned into spaces (`r''m -r\f /` → `rm -rf /`)
 *   commands  `text` split into simple commands; wrappers and VAR= prefixes peeled off, so
 *             `nohup env X=1 printenv` is seen as `printenv`; commands run by sudo, `sh -c`,
 *             eval and `find -exec` are judged as well
 *
 * Quotes are removed before splitting, so a separator inside quotes also splits. That can
 * refuse a harmless `echo "a; sudo b"`; it never lets a real separator hide a command.
 */

export type ShellGroup =
  | 'destructive'
  | 'reverse_shell'
  | 'exfiltration'
  | 'pipe_to_shell'
  | 'privilege_escalation'
  | 'fork_bomb'
  | 'env_dump'
  | 'obfuscation';

export const SHELL_GROUPS: readonly ShellGroup[] = [
  'fork_bomb', 'destructive', 'reverse_shell', 'pipe_to_shell', 'exfiltration', 'privilege_escalation', 'env_dump', 'obfuscation',
];

export interface ShellGuardConfig {
  /** Groups to check; every group is on unless set to false here. */
  groups?: Partial<Record<ShellGroup, boolean>>;
  /** Longest command screened; longer ones are refused. Default 16 KiB. */
  maxLength?: number;
}

export interface ShellVerdict {
  allowed: boolean;
  group?: ShellGroup | 'limits';
  /** Name of the rule that matched. */
  pattern?: string;
}

interface CommandView {
  raw: string;
  text: string;
  commands: string[][];
}

interface Rule {
  group: ShellGroup;
  name: string;
  test(view: CommandView): boolean;
}

// ---- normalisation -----------------------------------------------------------------------

const WRAPPERS = new Set(['exec', 'command', 'builtin', 'nohup', 'time', 'nice', 'ionice', 'xargs', 'timeout', 'stdbuf', 'setsid', 'env']);
const ELEVATORS = new Set(['sudo', 'doas', 'pkexec', 'su', 'runuser']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

function basename(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}

function dropFlags(words: string[]): string[] {
  let i = 0;
  while (i < words.length && words[i].startsWith('-')) i++;
  return words.slice(i);
}

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'fish', 'ash', 'busybox']);

/**
 * Commands run by another command: `sudo X`, `bash -c "X"`, `eval X`, `find ... -exec X`.
 * Each X is judged too, so `sudo rm -rf /` is both sudo and a destructive rm.
 */
function innerCommands(words: string[]): string[][] {
  const [name] = words;
  if (ELEVATORS.has(name)) return [simpleCommand(dropFlags(words.slice(1)))];
  if (name === 'eval') return [simpleCommand(words.slice(1))];
  if (SHELLS.has(name)) {
    const c = words.findIndex((w, i) => i > 0 && /^-[a-z]*c[a-z]*$/.test(w));
    return c < 0 ? [] : [simpleCommand(words.slice(c + 1))];
  }
  if (name === 'find') {
    const exec = words.findIndex((w) => w === '-exec' || w === '-execdir' || w === '-ok');
    return exec < 0 ? [] : [simpleCommand(words.slice(exec + 1))];
  }
  return [];
}

/** Peels wrappers and assignments; a bare `env` (nothing left to run) stays as `env`. */
function simpleCommand(words: string[]): string[] {
  let rest = words;
  while (rest.length > 0 && ASSIGNMENT.test(rest[0])) rest = rest.slice(1);
  while (rest.length > 0 && WRAPPERS.has(basename(rest[0]))) {
    let next = rest.slice(1);
    while (next.length > 0 && (next[0].startsWith('-') || ASSIGNMENT.test(next[0]) || /^\d+[smhd]?$/.test(next[0]))) next = next.slice(1);
    if (next.length === 0) break;
    rest = next;
  }
  return rest.length === 0 ? rest : [basename(rest[0]), ...rest.slice(1)];
}

function view(cmd: string): CommandView {
  const raw = cmd.replace(/\\\r?\n/g, '').replace(/[\r\n]+/g, ' ; ').replace(/\s+/g, ' ').trim();
  const text = raw
    .replace(/\$\{IFS\}|\$IFS(\$\d)?/g, ' ')
    .replace(/\$[@*]|\$\{[@*]\}/g, '')
    .replace(/['"\\]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  const commands = text
    .split(/\|\||&&|\$\(|[;|&()`{}]/)
    .map((part) => simpleCommand(part.trim().split(' ').filter((w) => w.length > 0)))
    .filter((words) => words.length > 0)
    .flatMap((words) => [words, ...innerCommands(words)])
    .filter((words) => words.length > 0);
  return { raw, text, commands };
}

// ---- rules -------------------------------------------------------------------------------

const SHELL = String.raw`(?:sudo\s+(?:-\S{1,256}\s+)*)?(?:\S{0,256}/)?(?:ba|z|k|da|fi|tc|c|a)?sh\b`;
const FETCHER = String.raw`\b(?:curl|wget|fetch|aria2c|lwp-download)\b`;
const NETWORK = String.raw`\b(?:curl|wget|nc|ncat|netcat|socat|telnet|scp|sftp|ftp|mail|sendmail)\b`;
const SENSITIVE_FILE = String.raw`(?:/etc/(?:passwd|shadow|gshadow|sudoers|master\.passwd)|\.ssh/id_\w+|\.aws/credentials|\.netrc|\.git-credentials)`;
const SYSTEM_DIR = /^\/(?:bin|boot|dev|etc|home|lib|lib32|lib64|opt|proc|root|sbin|srv|sys|usr|var)?\/?\*?$/;
const HOME_TARGET = /^(?:~|\$HOME|\$\{HOME\})\/?\*?$/;

function regex(group: ShellGroup, name: string, re: RegExp, on: 'text' | 'raw' = 'text'): Rule {
  return { group, name, test: (v) => re.test(v[on]) };
}

function command(group: ShellGroup, name: string, match: (words: string[]) => boolean): Rule {
  return { group, name, test: (v) => v.commands.some(match) };
}

const flagsOf = (words: string[]): string[] => words.slice(1).filter((w) => w.startsWith('-'));
const argsOf = (words: string[]): string[] => words.slice(1).filter((w) => !w.startsWith('-'));
const hasShortFlag = (words: string[], letters: RegExp): boolean =>
  flagsOf(words).some((f) => !f.startsWith('--') && letters.test(f.slice(1)));

function rmEverything(words: string[]): boolean {
  if (words[0] !== 'rm') return false;
  const recursive = hasShortFlag(words, /[rR]/) || words.includes('--recursive');
  return recursive && argsOf(words).some((a) => SYSTEM_DIR.test(a) || HOME_TARGET.test(a) || a === '*' || a === '.*');
}

function chmodWorldWritableTree(words: string[]): boolean {
  if (words[0] !== 'chmod') return false;
  const recursive = hasShortFlag(words, /R/) || words.includes('--recursive');
  const args = argsOf(words);
  return recursive && args.some((a) => /^0?777$|^a\+rwx$|^[ugoa]*o[ugoa]*\+w/.test(a)) && args.some((a) => SYSTEM_DIR.test(a));
}

/** scp/rsync/sftp whose last argument is remote (`host:path`): a copy out of the machine. */
function copyToRemote(words: string[]): boolean {
  if (!['scp', 'rsync', 'sftp'].includes(words[0])) return false;
  const last = words.length > 1 ? words[words.length - 1] : '';
  return /^[\w.@-]+:/.test(last);
}

const SETUID_MODE = /^(?:[ugoa]*[+=][rwxXt]*s[rwxXt]*|0*[2-7][0-7]{3})$/;
const ROOT_OWNER = /^(?:root|0)(?:[:.]\S{0,256})?$/;

function bareEnvDump(words: string[]): boolean {
  const [name, ...rest] = words;
  if (name === 'printenv') return true;
  if (name === 'env') return rest.every((w) => w.startsWith('-'));
  if (name === 'set' || name === 'export') return rest.length === 0 || (name === 'export' && rest.every((w) => w === '-p'));
  if (name === 'declare' || name === 'typeset') return rest.length > 0 && rest.every((w) => /^-[px]+$/.test(w));
  if (name === 'compgen') return rest.includes('-v') || rest.includes('-e');
  return false;
}

const RULES: readonly Rule[] = [
  // fork_bomb
  regex('fork_bomb', 'shell_function_bomb', /(?<![^\s;&|(){}])([^\s;&|(){}]{1,64})\s*\(\)\s*\{\s*\1\s*\|\s*\1\s*&?\s*;?\s*\}/),
  regex('fork_bomb', 'perl_fork_loop', /\bfork\s*while\s*fork\b/),
  regex('fork_bomb', 'background_loop', /\bwhile\s*(?:true|:|1)\s*;?\s*do\s[^;]{0,512}&\s*;?\s*done/),
  // destructive
  command('destructive', 'rm_recursive_root', rmEverything),
  regex('destructive', 'no_preserve_root', /--no-preserve-root\b/),
  command('destructive', 'mkfs', (w) => /^mkfs(?:\.\w+)?$|^mke2fs$|^wipefs$/.test(w[0])),
  command('destructive', 'shred', (w) => w[0] === 'shred'),
  regex('destructive', 'dd_to_device', /\bdd\b[^;|&]{0,512}\bof=\/dev\/(?!null\b|zero\b|stdout\b|stderr\b)/),
  regex('destructive', 'redirect_to_device', />\s*\/dev\/(?:sd[a-z]|hd[a-z]|nvme\d|xvd[a-z]|vd[a-z]|mmcblk\d|disk\d|md\d|dm-\d)/),
  command('destructive', 'chmod_777_tree', chmodWorldWritableTree),
  regex('destructive', 'find_delete_root', /\bfind\s+\/\s[^;|&]{0,512}-delete\b/),
  // reverse_shell
  regex('reverse_shell', 'dev_tcp', /\/dev\/(?:tcp|udp)\/\S{1,256}\/\d+/),
  regex('reverse_shell', 'netcat_exec', /\b(?:nc|ncat|netcat)\b[^;|&]{0,512}(?:\s-[a-zA-Z]*[ec]\b|--(?:sh-)?exec\b)/),
  regex('reverse_shell', 'socat_exec', /\bsocat\b.{0,512}\b(?:exec|system):/i),
  regex('reverse_shell', 'fifo_shell', /\bmkfifo\b.{0,512}\b(?:nc|ncat|netcat|telnet|openssl\s+s_client)\b/),
  regex('reverse_shell', 'script_socket', /\b(?:python[\d.]*|perl|ruby|php|node)\b[^|;&]{0,512}\s-[a-zA-Z]*[cer]\s.{0,512}\b(?:socket|fsockopen|pty\.spawn|TCPSocket|net\.connect)\b/),
  regex('reverse_shell', 'ruby_rsocket', /\bruby\b.{0,512}\s-rsocket\b/),
  // pipe_to_shell
  regex('pipe_to_shell', 'fetch_pipe_shell', new RegExp(`${FETCHER}[^;&]{0,512}\\|\\s*${SHELL}`)),
  regex('pipe_to_shell', 'fetch_pipe_interpreter', new RegExp(`${FETCHER}[^;&]{0,512}\\|\\s*(?:sudo\\s+)?(?:\\S{0,256}/)?(?:python[\\d.]*|perl|ruby|node|php)\\s*(?:-\\s*)?(?:$|[;&|])`)),
  regex('pipe_to_shell', 'shell_process_substitution', new RegExp(`(?:\\b(?:ba|z|k|da)?sh|\\bsource|(?:^|\\s)\\.)\\s+<\\(\\s*${FETCHER}`)),
  regex('pipe_to_shell', 'shell_c_fetch', new RegExp(`\\b(?:(?:ba|z|k|da)?sh\\s+-c|eval)\\s+\\$\\(\\s*${FETCHER}`)),
  // exfiltration
  regex('exfiltration', 'upload_file', /\b(?:curl|wget)\b[^|;&]{0,512}\s(?:(?:-d|--data(?:-binary|-raw|-urlencode|-ascii)?)(?:\s+|=)?@|(?:-F|--form)\s+\S{0,256}=[@<])/),
  regex('exfiltration', 'upload_flag', /\b(?:curl|wget)\b[^|;&]{0,512}\s(?:-T|--upload-file|--post-file|--body-file)\b/),
  regex('exfiltration', 'fetch_with_substitution', /\b(?:curl|wget)\b[^|;&]{0,512}(?:\$\(|`|\$\{?[A-Za-z_]*(?:KEY|TOKEN|SECRET|PASS|PASSWORD|CREDENTIALS?)\b)/, 'raw'),
  regex('exfiltration', 'env_to_network', new RegExp(`\\b(?:env|printenv|set)\\b[^;&]{0,512}\\|[^;&]{0,512}${NETWORK}`)),
  regex('exfiltration', 'sensitive_file_to_network', new RegExp(`${SENSITIVE_FILE}[^;&]{0,512}\\|[^;&]{0,512}${NETWORK}|${NETWORK}[^;&|]{0,512}<\\s*\\S{0,256}${SENSITIVE_FILE}`)),
  regex('exfiltration', 'shadow_read', /\/etc\/(?:g?shadow|master\.passwd)\b/),
  command('exfiltration', 'copy_to_remote', copyToRemote),
  // privilege_escalation
  command('privilege_escalation', 'sudo', (w) => ELEVATORS.has(w[0])),
  command('privilege_escalation', 'setcap', (w) => w[0] === 'setcap'),
  command('privilege_escalation', 'chmod_setuid', (w) => w[0] === 'chmod' && argsOf(w).some((a) => SETUID_MODE.test(a))),
  command('privilege_escalation', 'chown_root', (w) => (w[0] === 'chown' || w[0] === 'chgrp') && ROOT_OWNER.test(argsOf(w)[0] ?? '')),
  regex('privilege_escalation', 'write_auth_files', /(?:>|\btee\b[^|;&]{0,512})\s*\/etc\/(?:sudoers|passwd|shadow|group)\b/),
  // env_dump
  command('env_dump', 'environment_listing', bareEnvDump),
  regex('env_dump', 'proc_environ', /\/proc\/(?:\d+|self|thread-self|\*|\$\$|\$\w+)\/environ\b/),
  // obfuscation
  regex('obfuscation', 'ifs_splitting', /\$\{?IFS\b/, 'raw'),
  regex('obfuscation', 'ansi_c_escapes', /\$'[^']{0,512}\\(?:x[0-9a-fA-F]{2}|[0-7]{3}|u[0-9a-fA-F]{4})/, 'raw'),
  regex('obfuscation', 'escapes_to_shell', new RegExp(`\\\\(?:x[0-9a-fA-F]{2}|[0-7]{3})[^|]{0,512}\\|\\s*${SHELL}`), 'raw'),
  regex('obfuscation', 'decode_to_shell', new RegExp(`\\b(?:base64\\s+(?:-\\S{1,256}\\s+)*(?:-d|--decode|-D)|xxd\\s+(?:-\\S{1,256}\\s+)*-r|rev|printf|openssl\\s+(?:enc\\s+)?-?base64\\s+-d)\\b[^;&]{0,512}\\|\\s*(?:${SHELL}|(?:python[\\d.]*|perl|ruby|node)\\b)`)),
  regex('obfuscation', 'eval_decoded', /\beval\b.{0,512}(?:base64|xxd|printf|\brev\b|\$\(|`)/),
  regex('obfuscation', 'eval_escapes', /\beval\b.{0,512}\\(?:x[0-9a-fA-F]{2}|[0-7]{3})/, 'raw'),
];

export const DEFAULT_MAX_COMMAND_LENGTH = 16 * 1024;

export function checkCommand(cmd: string, config: ShellGuardConfig = {}): ShellVerdict {
  if (cmd.length > (config.maxLength ?? DEFAULT_MAX_COMMAND_LENGTH)) return { allowed: false, group: 'limits', pattern: 'too_long' };
  if (cmd.includes('\0')) return { allowed: false, group: 'obfuscation', pattern: 'null_byte' };
  const v = view(cmd);
  for (const rule of RULES) {
    if (config.groups?.[rule.group] === false) continue;
    if (rule.test(v)) return { allowed: false, group: rule.group, pattern: rule.name };
  }
  return { allowed: true };
}
