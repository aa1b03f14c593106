/**
 * AWS::Kinesis::Stream: read with its mode, shard count and retention, and created in kinesalite.
 */

import { join } from 'node:path';
import {
  CreateStreamCommand,
  DecreaseStreamRetentionPeriodCommand,
  DescribeStreamSummaryCommand,
  IncreaseStreamRetentionPeriodCommand,
  type KinesisClient,
  ResourceNotFoundException,
  type StreamDescriptionSummary,
} from '@aws-sdk/client-kinesis';
import { resolveString } from '../intrinsics';
import type { CfnValue } from '../template';
import { ResourceConflictError, UnsupportedTemplateError } from './errors';
import { literalInteger, objectProp } from './properties';
import { type LocalResourceType, type ProvisionAction, report, waitUntil } from './resourceType';

export interface StreamModel {
  logicalId: string;
  /** Physical name, possibly an intrinsic (resolve it with `resolveValue`). */
  name: CfnValue;
  streamMode: 'PROVISIONED' | 'ON_DEMAND';
  shardCount: number;
  retentionPeriodHours: number;
}

const CFN_TYPE = 'AWS::Kinesis::Stream';
/** AWS creates an on-demand stream with capacity for 4 MB/s of writes, i.e. 4 shards. */
const ON_DEMAND_INITIAL_SHARDS = 4;

export const kinesisStream: LocalResourceType<'streams'> = {
  cfnType: CFN_TYPE,
  modelKey: 'streams',

  describe(logicalId, resource, { defaultName }) {
    const props = resource.Properties ?? {};
    const mode = objectProp(props.StreamModeDetails)?.StreamMode ?? 'PROVISIONED';
    if (mode !== 'PROVISIONED' && mode !== 'ON_DEMAND') {
      throw new UnsupportedTemplateError(logicalId, `unknown StreamMode ${JSON.stringify(mode)}`);
    }
    return {
      logicalId,
      name: props.Name ?? defaultName,
      streamMode: mode,
      shardCount: literalInteger(logicalId, 'ShardCount', props.ShardCount, 1),
      retentionPeriodHours: literalInteger(logicalId, 'RetentionPeriodHours', props.RetentionPeriodHours, 24),
    };
  },

  /** Creates the stream; on existing data a different shard count is a conflict, retention is updated. */
  async provision(stream, context) {
    const { kinesis } = context.clients;
    const name = resolveString(stream.name, context.resolved, context.pseudo, `${stream.logicalId}.Name`);
    const label = `kinesis stream ${name} (${stream.logicalId})`;
    let wantedShards = stream.shardCount;
    if (stream.streamMode === 'ON_DEMAND') {
      wantedShards = ON_DEMAND_INITIAL_SHARDS;
      context.log(`${label}: kinesalite has no ON_DEMAND mode; using ${wantedShards} provisioned shards`);
    }

    let summary = await streamSummary(kinesis, name);
    let action: ProvisionAction = 'exists';
    if (!summary) {
      await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: wantedShards }));
      action = 'created';
    }
    summary = await waitUntil(
      () => streamSummary(kinesis, name),
      (candidate) => candidate?.StreamStatus === 'ACTIVE',
      label,
      'kinesis',
      context,
    );
    if (summary.OpenShardCount !== wantedShards) {
      const dir = join(context.running.dataDir, 'kinesis');
      throw new ResourceConflictError(
        `${label} exists in ${dir} with ${summary.OpenShardCount} open shards, but the template declares ${wantedShards}: ` +
          `delete ${dir} to recreate it (its records are lost), or synthesize the stack with ${summary.OpenShardCount} shards`,
      );
    }
    const retention = summary.RetentionPeriodHours ?? 24;
    if (retention !== stream.retentionPeriodHours) {
      const change = { StreamName: name, RetentionPeriodHours: stream.retentionPeriodHours };
      await kinesis.send(
        stream.retentionPeriodHours > retention
          ? new IncreaseStreamRetentionPeriodCommand(change)
          : new DecreaseStreamRetentionPeriodCommand(change),
      );
      if (action === 'exists') action = 'updated';
    }
    report(
      context,
      stream.logicalId,
      label,
      action,
      `${wantedShards} shards, ${stream.retentionPeriodHours} h retention`,
    );
    return { type: CFN_TYPE, ref: name, attributes: { Arn: summary.StreamARN as string } };
  },
};

async function streamSummary(
  kinesis: KinesisClient,
  name: string,
): Promise<StreamDescriptionSummary | undefined> {
  try {
    const { StreamDescriptionSummary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: name }),
    );
    return StreamDescriptionSummary;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}
