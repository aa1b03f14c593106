/**
 * FilterCriteria against a real kinesalite, through the real function host. Each test cites the Lambda
 * developer guide: "Control which events Lambda sends to your function" (quoted as "Event filtering") and
 * "Using event filtering with a Kinesis event source" (quoted as "Kinesis filtering").
 */
import { describe, expect, test } from 'vitest';
import { InvalidFilterCriteriaError } from '../../local/esm';
import { conformanceSuite, createStream, type MappingUnderTest, putRecords } from './harness';

const suite = conformanceSuite();

function filters(...patterns: unknown[]) {
  return { Filters: patterns.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) };
}

function delivered(under: MappingUnderTest): string[] {
  return under.invocations.flatMap((invocation) => invocation.data);
}

const json = (value: unknown, partitionKey = 'key') => ({ data: JSON.stringify(value), partitionKey });

describe('event filtering', () => {
  // Kinesis filtering: "As long as the data the producer puts into the stream is valid JSON, you can use
  // event filtering to filter records using the data key." Event filtering: "If none of your filters are
  // satisfied, Lambda discards the record."
  test('only records whose JSON data matches the filter reach the function', async () => {
    const stream = await createStream(suite.emulators.kinesis);
    await putRecords(suite.emulators.kinesis, stream.streamName, [
      json({ order: { type: 'buy', quantity: 1000 } }),
      json({ order: { type: 'sell', quantity: 5 } }),
      json({ order: { type: 'buy', quantity: 10 } }),
    ]);
    const under = await suite.start({
      stream,
      handler: 'succeed.handler',
      settings: {
        FilterCriteria: filters({ data: { order: { type: ['buy'], quantity: [{ numeric: ['>=', 100] }] } } }),
      },
    });
    await under.mapping.waitUntilIdle();
    expect(delivered(under)).toEqual([JSON.stringify({ order: { type: 'buy', quantity: 1000 } })]);
    expect(under.mapping.stats().shards[0]?.recordsFilteredOut).toBe(2);
  });

  // Event filtering (earlier editions): "you want your function to handle only events with a specific
  // partitionKey (a metadata property)". The current Kinesis filtering page says only the data key is
  // supported, so the mapping warns at start.
  test('a filter on the partition key selects records by key, and the start-up log warns that AWS documents data-only filtering', async () => {
    const stream = await createStream(suite.emulators.kinesis);
    await putRecords(suite.emulators.kinesis, stream.streamName, [
      { data: 'first', partitionKey: 'eu-customer-1' },
      { data: 'second', partitionKey: 'us-customer-2' },
      { data: 'third', partitionKey: 'eu-customer-3' },
    ]);
    const under = await suite.start({
      stream,
      handler: 'succeed.handler',
      settings: { FilterCriteria: filters({ partitionKey: [{ prefix: 'eu-' }] }) },
    });
    await under.mapping.waitUntilIdle();
    expect(delivered(under)).toEqual(['first', 'third']);
    expect(under.logs.filter((entry) => entry.level === 'warn').map((entry) => entry.message)).toEqual([
      expect.stringMatching(/metadata key partitionKey: the current Lambda guide says .* data key only/),
    ]);
  });

  // Event filtering: "Once your filter criteria processes a Kinesis or DynamoDB record, the streams
  // iterator advances past this record ... you don't have to manually delete the record".
  test('a record that matches no filter counts as processed: the checkpoint moves past it, even when nothing is invoked', async () => {
    const stream = await createStream(suite.emulators.kinesis);
    const sequenceNumbers = await putRecords(suite.emulators.kinesis, stream.streamName, [
      json({ type: 'buy' }),
      json({ type: 'sell' }),
    ]);
    const under = await suite.start({
      stream,
      handler: 'succeed.handler',
      settings: { FilterCriteria: filters({ data: { type: ['buy'] } }) },
    });
    await under.mapping.waitUntilIdle();
    expect(delivered(under)).toEqual([JSON.stringify({ type: 'buy' })]);
    expect(under.mapping.stats().shards[0]).toMatchObject({
      lastProcessedSequenceNumber: sequenceNumbers[1],
      recordsFilteredOut: 1,
    });

    const [onlyFiltered] = await putRecords(suite.emulators.kinesis, stream.streamName, [
      json({ type: 'hold' }),
    ]);
    await under.mapping.waitUntilIdle();
    expect(under.invocations).toHaveLength(1);
    expect(under.mapping.stats().shards[0]).toMatchObject({
      lastProcessedSequenceNumber: onlyFiltered,
      recordsFilteredOut: 2,
    });
    expect(under.logs.some((entry) => entry.decision === 'filter-out')).toBe(true);
  });

  // Event filtering: "Your filters are logically ORed together." Kinesis data that is not JSON: with a
  // data pattern "Lambda drops the record"; with no data pattern "Lambda filters (on the other metadata
  // properties only)".
  test('filters are ORed, and data that is not JSON only passes a filter on metadata', async () => {
    const stream = await createStream(suite.emulators.kinesis);
    await putRecords(suite.emulators.kinesis, stream.streamName, [
      json({ type: 'buy' }, 'orders'),
      { data: 'buy', partitionKey: 'orders' },
      { data: 'plain text', partitionKey: 'raw' },
      json({ type: 'sell' }, 'orders'),
    ]);
    const under = await suite.start({
      stream,
      handler: 'succeed.handler',
      settings: { FilterCriteria: filters({ data: { type: ['buy'] } }, { partitionKey: ['raw'] }) },
    });
    await under.mapping.waitUntilIdle();
    expect(delivered(under)).toEqual([JSON.stringify({ type: 'buy' }), 'plain text']);
  });

  // Event filtering: "If you're using batching windows, Lambda applies your filter criteria to each new
  // event to determine whether to add it to the current batch."
  test('filtering comes before batching: BatchSize counts only the records that pass', async () => {
    const stream = await createStream(suite.emulators.kinesis);
    await putRecords(
      suite.emulators.kinesis,
      stream.streamName,
      ['buy', 'sell', 'sell', 'buy', 'sell', 'buy'].map((type) => json({ type })),
    );
    const under = await suite.start({
      stream,
      handler: 'succeed.handler',
      settings: { BatchSize: 2, FilterCriteria: filters({ data: { type: [{ 'anything-but': ['sell'] }] } }) },
    });
    await under.mapping.waitUntilIdle();
    expect(under.invocations.map((invocation) => invocation.data.length)).toEqual([2, 1]);
  });

  // Kinesis filtering: a data pattern that is not valid JSON makes "Lambda [throw] an exception at the
  // time of the event source mapping creation or update".
  test('an invalid filter pattern is refused at start with InvalidFilterCriteriaError, before anything is polled', async () => {
    const stream = await createStream(suite.emulators.kinesis);
    await expect(
      suite.start({
        stream,
        handler: 'succeed.handler',
        settings: { FilterCriteria: filters({ data: ['buy'] }) },
      }),
    ).rejects.toThrow(InvalidFilterCriteriaError);
  });
});
