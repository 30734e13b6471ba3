/**
 * An example TypeScript tool (see ../README.md): working days between two dates, for agents that answer
 * "when is this due?" questions about service-level agreements. Pure computation, so it needs no settings.
 */
import { z } from 'zod';
import { defineTool, ToolError } from '../defineTool.js';

const isoDate = z.iso.date({ error: 'must be a date written YYYY-MM-DD' });
const DAY_MS = 86_400_000;

export default defineTool({
  name: 'business_days_between',
  description:
    'Counts the working days (Monday to Friday, minus the given holidays) from one date to another: the ' +
    'start date is not counted, the end date is. Use it to check service-level deadlines.',
  input: z.object({
    from: isoDate.describe('The first date, YYYY-MM-DD (not counted).'),
    to: isoDate.describe('The last date, YYYY-MM-DD (counted).'),
    holidays: z.array(isoDate).max(366).default([]).describe('Dates that are not working days, YYYY-MM-DD.'),
  }),
  handler({ from, to, holidays }) {
    const start = Date.parse(`${from}T00:00:00Z`);
    const end = Date.parse(`${to}T00:00:00Z`);
    if (end < start) {
      return Promise.reject(
        new ToolError(`"to" (${to}) is before "from" (${from}); swap them.`, { kind: 'invalid_arguments' }),
      );
    }
    if ((end - start) / DAY_MS > 3_660) {
      return Promise.reject(
        new ToolError('The range is longer than ten years; ask for a shorter one.', {
          kind: 'invalid_arguments',
        }),
      );
    }
    const off = new Set(holidays);
    let days = 0;
    for (let time = start + DAY_MS; time <= end; time += DAY_MS) {
      const date = new Date(time);
      const weekday = date.getUTCDay();
      if (weekday !== 0 && weekday !== 6 && !off.has(date.toISOString().slice(0, 10))) days++;
    }
    return Promise.resolve({
      content: `${days} working day${days === 1 ? '' : 's'} from ${from} to ${to}.`,
      data: { days },
    });
  },
});
