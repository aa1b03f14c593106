import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { ShardlineAlarms } from '../../lib/constructs/alarms';

/**
 * The alarms construct on its own, with plain functions standing in for the consumer and the publisher
 * (no bundling, no synth of the whole stack). The stack creates it with the real consumer, queue and
 * mapping: test/cdk/stack.test.ts checks that it is there.
 */
function alarmsTemplate(options: { email?: string; publisher?: boolean } = {}) {
  const stack = new Stack(new App(), 'AlarmsTest');
  const fn = (id: string) =>
    new LambdaFunction(stack, id, {
      functionName: id.toLowerCase(),
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => {}'),
    });
  new ShardlineAlarms(stack, 'Alarms', {
    consumer: fn('Consumer'),
    eventSourceMappingId: 'esm-uuid',
    deadLetterQueue: new Queue(stack, 'Dlq'),
    maxRecordAge: Duration.hours(1),
    publisher: options.publisher ? fn('Publisher') : undefined,
    alarmEmail: options.email,
  });
  return Template.fromStack(stack);
}

type AlarmProps = Record<string, unknown>;
function alarms(template: Template): Record<string, AlarmProps> {
  return Object.fromEntries(
    Object.entries(template.findResources('AWS::CloudWatch::Alarm')).map(([id, resource]) => [
      id.replace(/^Alarms/, '').replace(/[0-9A-F]{8}$/, ''),
      (resource as { Properties: AlarmProps }).Properties,
    ]),
  );
}

const base = alarms(alarmsTemplate());

describe('alarms', () => {
  it('are exactly these without a publisher', () => {
    expect(Object.keys(base).sort()).toEqual([
      'BatchesSentOnFailure',
      'ConsumerErrors',
      'ConsumerIteratorAge',
      'ConsumerThrottles',
      'DeadLetterOldestMessage',
      'OnFailureDeliveryFailures',
      'UnpublishedCommitAge',
    ]);
  });

  it('add the publisher errors when a publisher is given', () => {
    const withPublisher = alarms(alarmsTemplate({ publisher: true }));
    expect(withPublisher.PublisherErrors).toMatchObject({
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: expect.stringMatching(/^Publisher/) } }],
      Threshold: 0,
      EvaluationPeriods: 2,
    });
  });

  it('fire on a consumer iterator age above a quarter of the maximum record age, for 5 minutes', () => {
    expect(base.ConsumerIteratorAge).toMatchObject({
      MetricName: 'IteratorAge',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 15 * 60 * 1000,
      EvaluationPeriods: 5,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('fire on consumer errors in 3 consecutive 5-minute periods and on throttles in 2', () => {
    expect(base.ConsumerErrors).toMatchObject({ MetricName: 'Errors', Period: 300, EvaluationPeriods: 3 });
    expect(base.ConsumerThrottles).toMatchObject({
      MetricName: 'Throttles',
      Period: 300,
      EvaluationPeriods: 2,
    });
  });

  it('fire on the first batch the event source mapping sends on-failure, by its UUID', () => {
    expect(base.BatchesSentOnFailure).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'OnFailureDestinationDeliveredEventCount',
      Dimensions: [{ Name: 'EventSourceMappingUUID', Value: 'esm-uuid' }],
      Statistic: 'Sum',
      Threshold: 0,
      EvaluationPeriods: 1,
    });
    expect(base.OnFailureDeliveryFailures).toMatchObject({
      MetricName: 'DestinationDeliveryFailures',
      Threshold: 0,
    });
  });

  it('fire when a dead-letter message has waited over an hour', () => {
    expect(base.DeadLetterOldestMessage).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Statistic: 'Maximum',
      Threshold: 3600,
    });
  });

  it("fire when the publisher's oldest unpublished commit is over 10 minutes old", () => {
    expect(base.UnpublishedCommitAge).toMatchObject({
      Namespace: 'Shardline',
      MetricName: 'UnpublishedCommitAgeSeconds',
      Dimensions: [{ Name: 'service', Value: 'shardline-publisher' }],
      Statistic: 'Maximum',
      Threshold: 600,
      EvaluationPeriods: 3,
    });
  });

  it('treat missing data as fine and explain themselves', () => {
    for (const [id, alarm] of Object.entries(base)) {
      expect([id, alarm.TreatMissingData]).toEqual([id, 'notBreaching']);
      expect(JSON.stringify(alarm.AlarmDescription ?? '').length, id).toBeGreaterThan(40);
    }
  });

  it('notify nobody by default', () => {
    for (const alarm of Object.values(base)) expect(alarm.AlarmActions).toBeUndefined();
  });

  it('notify an email address through a TLS-only topic, on alarm and on recovery', () => {
    const template = alarmsTemplate({ email: 'oncall@example.com' });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    for (const alarm of Object.values(alarms(template))) {
      expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmsTopic/) }]);
      expect(alarm.OKActions).toEqual(alarm.AlarmActions);
    }
  });
});
