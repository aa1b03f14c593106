import { describe, expect, it } from 'vitest';
import { formatAge, InvalidSinceError, parseSince } from '../../../cli/dlq/failureStore';
import { fixEnvironment } from '../../../cli/dlq/fixProcess';

const NOW = Date.parse('2026-12-02T12:00:00.000Z');

describe('dlq redrive --since', () => {
  it.each([
    ['90s', '2026-12-02T11:58:30.000Z'],
    ['30m', '2026-12-02T11:30:00.000Z'],
    ['6h', '2026-12-02T06:00:00.000Z'],
    ['7d', '2026-11-25T12:00:00.000Z'],
    ['2026-12-01T00:00:00Z', '2026-12-01T00:00:00.000Z'],
  ])('reads %s as %s', (value, expected) => {
    expect(parseSince(value, NOW).toISOString()).toBe(expected);
  });

  it.each(['yesterday', '6w', '', '12'])('refuses %j with a message that says what it takes', (value) => {
    expect(() => parseSince(value, NOW)).toThrow(InvalidSinceError);
    expect(() => parseSince(value, NOW)).toThrow(/duration \(30m, 6h, 7d\) nor an ISO date/);
  });
});

describe('the fix script environment', () => {
  it('carries no AWS credentials from the environment, the shared files or the metadata service', () => {
    const env = fixEnvironment(
      {
        PATH: '/usr/bin',
        HOME: '/home/operator',
        AWS_ACCESS_KEY_ID: 'AKIA',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SESSION_TOKEN: 'token',
        AWS_PROFILE: 'prod',
        AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.2/creds',
        AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token',
      },
      '/tmp/empty-home',
    );
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/tmp/empty-home',
      USERPROFILE: '/tmp/empty-home',
      AWS_SHARED_CREDENTIALS_FILE: '/tmp/empty-home/no-credentials',
      AWS_CONFIG_FILE: '/tmp/empty-home/no-config',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });
});

describe('ages', () => {
  it.each([
    [45_000, '45s'],
    [12 * 60_000, '12m'],
    [5 * 3_600_000, '5h'],
    [3 * 86_400_000, '3d'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});
