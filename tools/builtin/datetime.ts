/** `datetime`: the current time, in UTC and in an IANA time zone if asked. */
import { ToolError } from '../errors.js';
import type { ToolDefinition } from '../types.js';

export function datetimeTool(now: () => Date = () => new Date()): ToolDefinition {
  return {
    name: 'datetime',
    description: 'Current date and time. Optionally give an IANA time zone such as "Europe/Paris".',
    parameters: {
      type: 'object',
      properties: { timezone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA time zone name' } },
      additionalProperties: false,
    },
    readOnly: true,
    group: 'time',
    async run(args) {
      const date = now();
      const timeZone = typeof args.timezone === 'string' ? args.timezone : 'UTC';
      let local: string;
      try {
        local = new Intl.DateTimeFormat('en-CA', {
          timeZone, dateStyle: 'full', timeStyle: 'long', hourCycle: 'h23',
        }).format(date);
      } catch {
        throw new ToolError('INVALID_REQUEST', 'bad_timezone', `unknown time zone '${timeZone}'`, { path: '$.timezone' });
      }
      const data = { iso: date.toISOString(), unixMs: date.getTime(), timezone: timeZone, local };
      return { content: `${local} (${data.iso})`, data };
    },
  };
}
