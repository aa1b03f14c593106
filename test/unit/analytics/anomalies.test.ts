import { describe, expect, it } from 'vitest';
import { applyEvents, emptyAnalyticsState, toAnalyticsEvent } from '../../../lambdas/consumer/analytics';
import { decodeRecord } from '../../../lambdas/consumer/decode';
import { toRow } from '../../../lambdas/consumer/transform';
import {
  ANOMALY_KINDS,
  AnomalySpanTooShortError,
  type GeneratedRecord,
  generateRecords,
  injectedAnomalies,
} from '../../../lambdas/producer/generate';
import { DEFAULT_ANALYTICS_CONFIG } from '../../../lambdas/shared/analyticsConfig';
import { kinesisRecord } from '../../helpers/kinesisEvents';

const options = {
  count: 3_000,
  seed: 5,
  invalidRatio: 0.02,
  tenants: ['acme', 'globex', 'initech'],
  startTime: Date.parse('2026-11-01T00:00:00Z'),
  spanMinutes: 60,
  usersPerTenant: 200,
};
const text = (records: GeneratedRecord[]) => records.map((r) => Buffer.from(r.data).toString('utf8'));

/** Every valid record as an analytics event, as if all were on one shard. */
function analyticsEvents(records: GeneratedRecord[]) {
  return records.flatMap((record, i) => {
    const kinesis = kinesisRecord('shardId-000000000000', String(i + 1), record.data, record.partitionKey);
    const decoded = decodeRecord(kinesis);
    if (!decoded.ok) return [];
    const origin = {
      shardId: 'shardId-000000000000',
      sequenceNumber: String(i + 1),
      partitionKey: record.partitionKey,
      arrivalTime: 0,
    };
    return [toAnalyticsEvent(toRow(decoded.event, origin, 0))];
  });
}

describe('anomaly injection in the producer', () => {
  const normal = generateRecords(options);
  const injected = generateRecords({ ...options, anomalies: true });
  const { outputs } = applyEvents(emptyAnalyticsState(), analyticsEvents(injected), DEFAULT_ANALYTICS_CONFIG);

  it('leaves the normal records byte-identical and in order, adding only marked anomaly records', () => {
    expect(text(injected.filter((r) => !r.anomaly))).toEqual(text(normal));
    expect(new Set(injected.filter((r) => r.anomaly).map((r) => r.anomaly))).toEqual(new Set(ANOMALY_KINDS));
  });

  it('puts every injected record among the normal ones in event-time order, so none arrives late', () => {
    expect(outputs.lateEvents).toEqual([]);
  });

  it('raises exactly one alert per injected anomaly, of its kind, for its user, and none for normal traffic', () => {
    const raised = outputs.alerts.map((a) => `${a.pattern} ${a.tenant_id}/${a.user_id}`).sort();
    const expected = injectedAnomalies(options)
      .map((a) => `${a.kind} ${a.tenantId}/${a.userId}`)
      .sort();
    expect(raised).toEqual(expected);
  });

  it('refuses a span too short to keep the anomalies apart', () => {
    expect(() => generateRecords({ ...options, spanMinutes: 10, anomalies: true })).toThrowError(
      AnomalySpanTooShortError,
    );
  });
});
