import { ShardlineError } from '../../lambdas/shared/errors';
/**
 * EventBridge schedule expressions (EventBridge User Guide, "Schedule expressions for rules"):
 * `rate(value unit)` and the six-field `cron(minutes hours day-of-month month day-of-week year)`, in UTC.
 */

export type Schedule =
  | { kind: 'rate'; expression: string; periodMs: number }
  | { kind: 'cron'; expression: string; fields: CronFields };

/** The allowed values of each cron field, expanded. `undefined` day fields stand for `?`. */
export interface CronFields {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth?: Set<number>;
  months: Set<number>;
  /** 1 (Sunday) to 7 (Saturday), as EventBridge numbers them. */
  daysOfWeek?: Set<number>;
  years: Set<number> | 'any';
}

export class InvalidScheduleExpressionError extends ShardlineError {
  constructor(expression: string, why: string) {
    super(`schedule expression ${JSON.stringify(expression)} ${why}`);
    this.name = 'InvalidScheduleExpressionError';
  }
}

const RATE_UNITS_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/**
 * Parses a schedule expression as EventBridge accepts it: `rate(1 minute)` (singular for 1, plural
 * otherwise) or `cron(0/5 8-17 ? * MON-FRI *)` (one of the two day fields must be `?`). The `L`, `W`
 * and `#` cron forms are refused: the local runtime does not run them.
 *
 * @example
 * ```ts
 * parseScheduleExpression('rate(5 minutes)'); // { kind: 'rate', periodMs: 300000, … }
 * ```
 */
export function parseScheduleExpression(expression: string): Schedule {
  const rate = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    if (value < 1) throw new InvalidScheduleExpressionError(expression, 'needs a rate of at least 1');
    if ((value === 1) !== (rate[3] === '')) {
      throw new InvalidScheduleExpressionError(
        expression,
        'takes a singular unit for 1 and a plural one otherwise',
      );
    }
    return { kind: 'rate', expression, periodMs: value * (RATE_UNITS_MS[rate[2] as string] as number) };
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (!cron) {
    throw new InvalidScheduleExpressionError(expression, 'is neither rate(value unit) nor cron(six fields)');
  }
  const parts = (cron[1] as string).trim().split(/\s+/);
  if (parts.length !== 6) throw new InvalidScheduleExpressionError(expression, 'needs six cron fields');
  const [minutes, hours, daysOfMonth, months, daysOfWeek, years] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if ((daysOfMonth === '?') === (daysOfWeek === '?')) {
    throw new InvalidScheduleExpressionError(
      expression,
      'needs `?` in exactly one of day-of-month and day-of-week',
    );
  }
  const field = (text: string, min: number, max: number, names: string[] = []) =>
    expandField(expression, text, min, max, names);
  return {
    kind: 'cron',
    expression,
    fields: {
      minutes: field(minutes, 0, 59),
      hours: field(hours, 0, 23),
      ...(daysOfMonth === '?' ? {} : { daysOfMonth: field(daysOfMonth, 1, 31) }),
      months: field(months, 1, 12, MONTHS),
      ...(daysOfWeek === '?' ? {} : { daysOfWeek: field(daysOfWeek, 1, 7, WEEKDAYS) }),
      years: years === '*' ? 'any' : field(years, 1970, 2199),
    },
  };
}

function expandField(
  expression: string,
  text: string,
  min: number,
  max: number,
  names: string[],
): Set<number> {
  const values = new Set<number>();
  const value = (token: string) => {
    const named = names.indexOf(token.toUpperCase());
    const number = named >= 0 ? named + 1 : Number(token);
    if (!Number.isInteger(number) || number < min || number > max) {
      throw new InvalidScheduleExpressionError(expression, `has ${token} where ${min}-${max} is allowed`);
    }
    return number;
  };
  for (const part of text.split(',')) {
    if (/[LW#]/i.test(part) && !names.some((name) => part.toUpperCase().includes(name))) {
      throw new InvalidScheduleExpressionError(expression, `uses ${part}: L, W and # are not run locally`);
    }
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) {
      throw new InvalidScheduleExpressionError(expression, `has the step ${stepText} in ${part}`);
    }
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [min, max];
    else if (range.includes('-')) {
      const [start, end] = range.split('-') as [string, string];
      [from, to] = [value(start), value(end)];
    } else [from, to] = [value(range), stepText === undefined ? value(range) : max];
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

/**
 * Whether a cron schedule fires at the minute that contains `time` (UTC).
 *
 * @example
 * ```ts
 * const schedule = parseScheduleExpression('cron(0 12 * * ? *)');
 * cronMatches(schedule.fields, new Date('2026-01-01T12:00:30Z')); // true
 * ```
 */
export function cronMatches(fields: CronFields, time: Date): boolean {
  return (
    fields.minutes.has(time.getUTCMinutes()) &&
    fields.hours.has(time.getUTCHours()) &&
    fields.months.has(time.getUTCMonth() + 1) &&
    (fields.years === 'any' || fields.years.has(time.getUTCFullYear())) &&
    (fields.daysOfMonth?.has(time.getUTCDate()) ?? true) &&
    (fields.daysOfWeek?.has(time.getUTCDay() + 1) ?? true)
  );
}
