import { describe, expect, it } from 'vitest';
import {
  cronMatches,
  InvalidScheduleExpressionError,
  parseScheduleExpression,
} from '../../../local/resources/scheduleExpression';

describe('parseScheduleExpression', () => {
  it.each([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(1 hour)', 3_600_000],
    ['rate(2 days)', 172_800_000],
  ])('reads %s as a period of %i ms', (expression, periodMs) => {
    expect(parseScheduleExpression(expression)).toEqual({ kind: 'rate', expression, periodMs });
  });

  it.each([
    ['a plural unit for 1', 'rate(1 minutes)'],
    ['a singular unit above 1', 'rate(2 minute)'],
    ['a rate of 0', 'rate(0 minutes)'],
    ['seconds', 'rate(30 seconds)'],
    ['an at() one-time schedule', 'at(2026-01-01T00:00:00)'],
    ['five cron fields', 'cron(0 12 * * ?)'],
    ['both day fields set', 'cron(0 12 1 * MON *)'],
    ['neither day field set', 'cron(0 12 ? * ? *)'],
    ['a minute of 60', 'cron(60 12 * * ? *)'],
    ['the L form', 'cron(0 12 L * ? *)'],
    ['the # form', 'cron(0 12 ? * 2#1 *)'],
  ])('refuses %s, as EventBridge does or the local runtime cannot run', (_, expression) => {
    expect(() => parseScheduleExpression(expression)).toThrow(InvalidScheduleExpressionError);
  });

  it('expands cron ranges, lists, steps and names', () => {
    const schedule = parseScheduleExpression('cron(0/15 8-10,17 ? JAN-MAR MON-FRI 2026)');
    if (schedule.kind !== 'cron') throw new Error('expected a cron schedule');
    expect([...schedule.fields.minutes]).toEqual([0, 15, 30, 45]);
    expect([...schedule.fields.hours]).toEqual([8, 9, 10, 17]);
    expect([...schedule.fields.months]).toEqual([1, 2, 3]);
    expect([...(schedule.fields.daysOfWeek ?? [])]).toEqual([2, 3, 4, 5, 6]);
    expect(schedule.fields.daysOfMonth).toBeUndefined();
  });
});

describe('cronMatches', () => {
  const weekdayMornings = parseScheduleExpression('cron(0/15 8-10 ? * MON-FRI *)');
  if (weekdayMornings.kind !== 'cron') throw new Error('expected a cron schedule');

  it.each([
    ['a Monday at 08:15 UTC', '2026-12-07T08:15:40Z', true],
    ['a Monday at 08:16 UTC', '2026-12-07T08:16:00Z', false],
    ['a Sunday at 08:15 UTC', '2026-12-06T08:15:00Z', false],
    ['a Friday at 10:45 UTC', '2026-12-04T10:45:00Z', true],
  ])('matches the minute of %s: %s', (_, time, expected) => {
    expect(cronMatches(weekdayMornings.fields, new Date(time))).toBe(expected);
  });
});
