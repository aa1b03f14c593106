import { Duration, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The metric the publisher Lambda emits for the oldest commit whose objects are not all published yet. */
export const UNPUBLISHED_COMMIT_AGE_METRIC = {
  namespace: 'Shardline',
  metricName: 'UnpublishedCommitAgeSeconds',
  dimensionsMap: { service: 'shardline-publisher' },
} as const;

export interface ShardlineAlarmsProps {
  /** The consumer behind the Kinesis event source mapping. */
  readonly consumer: IFunction;
  /** The event source mapping's id (UUID), for its on-failure event count. */
  readonly eventSourceMappingId: string;
  /** The dead-letter queue: on-failure metadata and invalid records. */
  readonly deadLetterQueue: IQueue;
  /** The mapping's `maxRecordAge`: records older than it go on-failure unread, so iterator age alarms well before. */
  readonly maxRecordAge: Duration;
  /** The scheduled publisher, when the stack has one: its errors get an alarm. */
  readonly publisher?: IFunction;
  /**
   * Where alarms notify. With `alarmEmail` and no topic, a topic is created and the address subscribed.
   *
   * @default - no notification: the alarms show in the CloudWatch console only
   */
  readonly alarmTopic?: ITopic;
  /** An address to subscribe to the alarm topic (it must confirm the subscription). */
  readonly alarmEmail?: string;
}

/** Alarm on the iterator age when it passes this fraction of `maxRecordAge`, leaving the rest to act. */
const ITERATOR_AGE_FRACTION = 0.25;
/** The publisher runs every minute; a commit still unpublished after ten runs means it is stuck. */
const UNPUBLISHED_COMMIT_AGE_THRESHOLD = Duration.minutes(10);
/** A dead-letter message nobody handled for an hour: someone must look before its 14 days run out. */
const DLQ_OLDEST_MESSAGE_THRESHOLD = Duration.hours(1);
const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

/**
 * The pipeline's CloudWatch alarms, each documented with its threshold in docs/DEPLOY.md: the consumer's
 * iterator age, errors and throttles, batches the mapping sent on-failure and on-failure deliveries that
 * failed, the dead-letter queue's oldest message, the oldest unpublished commit and, when given, the
 * publisher's errors. With a topic or an email every alarm notifies on ALARM and on OK.
 *
 * @example
 * ```ts
 * new ShardlineAlarms(stack, 'Alarms', {
 *   consumer, eventSourceMappingId: source.eventSourceMappingId, deadLetterQueue: dlq,
 *   maxRecordAge: Duration.hours(1), alarmEmail: 'oncall@example.com',
 * });
 * ```
 */
export class ShardlineAlarms extends Construct {
  /** Every alarm, by its construct id. */
  readonly alarms: Record<string, Alarm> = {};
  readonly topic?: ITopic;

  constructor(scope: Construct, id: string, props: ShardlineAlarmsProps) {
    super(scope, id);
    this.topic = props.alarmTopic ?? (props.alarmEmail ? this.emailTopic(props.alarmEmail) : undefined);
    const consumerName = props.consumer.functionName;

    this.add('ConsumerIteratorAge', {
      metric: props.consumer.metric('IteratorAge', { statistic: 'Maximum', period: ONE_MINUTE }),
      threshold: props.maxRecordAge.toMilliseconds() * ITERATOR_AGE_FRACTION,
      evaluationPeriods: 5,
      description: `${consumerName} is behind the stream: its oldest record waits longer than a quarter of the maximum record age, after which records go on-failure unprocessed.`,
    });
    this.add('ConsumerErrors', {
      metric: props.consumer.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES }),
      threshold: 0,
      evaluationPeriods: 3,
      description: `${consumerName} failed invocations in each of the last 15 minutes: a batch is being retried, bisected, and will go on-failure.`,
    });
    this.add('ConsumerThrottles', {
      metric: props.consumer.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES }),
      threshold: 0,
      evaluationPeriods: 2,
      description: `${consumerName} is throttled (account or reserved concurrency): its shards fall behind.`,
    });
    this.add('BatchesSentOnFailure', {
      metric: new Metric({
        namespace: 'AWS/Lambda',
        metricName: 'OnFailureDestinationDeliveredEventCount',
        dimensionsMap: { EventSourceMappingUUID: props.eventSourceMappingId },
        statistic: 'Sum',
        period: ONE_MINUTE,
      }),
      threshold: 0,
      evaluationPeriods: 1,
      description:
        'The event source mapping gave up on records (retries or record age exhausted) and sent them on-failure: redrive them with `shardline dlq redrive`.',
    });
    this.add('OnFailureDeliveryFailures', {
      metric: props.consumer.metric('DestinationDeliveryFailures', { statistic: 'Sum', period: ONE_MINUTE }),
      threshold: 0,
      evaluationPeriods: 1,
      description:
        'Lambda could not deliver an on-failure record to the dead-letter queue: those records are lost once the stream expires them.',
    });
    this.add('DeadLetterOldestMessage', {
      metric: props.deadLetterQueue.metricApproximateAgeOfOldestMessage({
        statistic: 'Maximum',
        period: FIVE_MINUTES,
      }),
      threshold: DLQ_OLDEST_MESSAGE_THRESHOLD.toSeconds(),
      evaluationPeriods: 1,
      description:
        'A dead-letter message has waited over an hour: inspect it with `shardline dlq list` and redrive or drop it before its 14-day retention ends.',
    });
    this.add('UnpublishedCommitAge', {
      metric: new Metric({ ...UNPUBLISHED_COMMIT_AGE_METRIC, statistic: 'Maximum', period: ONE_MINUTE }),
      threshold: UNPUBLISHED_COMMIT_AGE_THRESHOLD.toSeconds(),
      evaluationPeriods: 3,
      description:
        'A committed batch has not been published to the lake for over 10 minutes: the publisher is failing or not running.',
    });
    if (props.publisher) {
      this.add('PublisherErrors', {
        metric: props.publisher.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES }),
        threshold: 0,
        evaluationPeriods: 2,
        description: `${props.publisher.functionName} failed in each of the last 10 minutes: commits stay unpublished.`,
      });
    }
  }

  private add(
    id: string,
    options: { metric: IMetric; threshold: number; evaluationPeriods: number; description: string },
  ): void {
    const { description, ...settings } = options;
    const alarm = new Alarm(this, id, {
      ...settings,
      alarmDescription: description,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No data means nothing happened: no invocation, no message, no unpublished commit.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (this.topic) {
      alarm.addAlarmAction(new SnsAction(this.topic));
      alarm.addOkAction(new SnsAction(this.topic));
    }
    this.alarms[id] = alarm;
  }

  private emailTopic(email: string): Topic {
    const topic = new Topic(this, 'Topic', { enforceSSL: true });
    topic.addSubscription(new EmailSubscription(email));
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and states, no pipeline data; CloudWatch cannot publish to a ' +
        'topic encrypted with the AWS-managed SNS key, and a customer-managed key would bill monthly.',
    });
    return topic;
  }
}
