/**
 * AWS::DynamoDB::Table: read with its key schema, billing mode, indexes and TTL attribute, and created in
 * dynalite (which has no TTL: expired items stay, and provisioning says so).
 */

import { join } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { resolveString, resolveValue } from '../intrinsics';
import type { CfnValue } from '../template';
import { ResourceConflictError, UnsupportedTemplateError } from './errors';
import { literalBoolean, literalInteger, objectProp } from './properties';
import { type LocalResourceType, type ProvisionAction, report, waitUntil } from './resourceType';

export interface KeySchemaElement {
  AttributeName: string;
  KeyType: 'HASH' | 'RANGE';
}

export interface AttributeDefinition {
  AttributeName: string;
  AttributeType: 'S' | 'N' | 'B';
}

export interface TableModel {
  logicalId: string;
  name: CfnValue;
  KeySchema: KeySchemaElement[];
  AttributeDefinitions: AttributeDefinition[];
  BillingMode: 'PROVISIONED' | 'PAY_PER_REQUEST';
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  GlobalSecondaryIndexes?: CfnValue[];
  LocalSecondaryIndexes?: CfnValue[];
  /** The attribute DynamoDB expires items by, when TimeToLiveSpecification is enabled. */
  ttlAttribute?: string;
}

const CFN_TYPE = 'AWS::DynamoDB::Table';

export const dynamodbTable: LocalResourceType<'tables'> = {
  cfnType: CFN_TYPE,
  modelKey: 'tables',

  describe(logicalId, resource, { defaultName }) {
    const props = resource.Properties ?? {};
    const ttl = objectProp(props.TimeToLiveSpecification);
    const billingMode = props.BillingMode ?? 'PROVISIONED';
    if (billingMode !== 'PROVISIONED' && billingMode !== 'PAY_PER_REQUEST') {
      throw new UnsupportedTemplateError(logicalId, `unknown BillingMode ${JSON.stringify(billingMode)}`);
    }
    const throughput = objectProp(props.ProvisionedThroughput);
    return {
      logicalId,
      name: props.TableName ?? defaultName,
      KeySchema: (props.KeySchema ?? []) as unknown as KeySchemaElement[],
      AttributeDefinitions: (props.AttributeDefinitions ?? []) as unknown as AttributeDefinition[],
      BillingMode: billingMode,
      ...(throughput
        ? {
            ProvisionedThroughput: {
              ReadCapacityUnits: literalInteger(
                logicalId,
                'ReadCapacityUnits',
                throughput.ReadCapacityUnits,
                5,
              ),
              WriteCapacityUnits: literalInteger(
                logicalId,
                'WriteCapacityUnits',
                throughput.WriteCapacityUnits,
                5,
              ),
            },
          }
        : {}),
      ...(Array.isArray(props.GlobalSecondaryIndexes)
        ? { GlobalSecondaryIndexes: props.GlobalSecondaryIndexes }
        : {}),
      ...(Array.isArray(props.LocalSecondaryIndexes)
        ? { LocalSecondaryIndexes: props.LocalSecondaryIndexes }
        : {}),
      ...(ttl && literalBoolean(logicalId, 'TimeToLiveSpecification.Enabled', ttl.Enabled, false)
        ? { ttlAttribute: String(ttl.AttributeName) }
        : {}),
    };
  },

  /** Creates the table; on existing data a different key schema is a conflict. */
  async provision(table, context) {
    const { dynamodb } = context.clients;
    const name = resolveString(table.name, context.resolved, context.pseudo, `${table.logicalId}.TableName`);
    const label = `dynamodb table ${name} (${table.logicalId})`;
    let description = await tableDescription(dynamodb, name);
    let action: ProvisionAction = 'exists';
    if (!description) {
      const input: CreateTableCommandInput = {
        TableName: name,
        KeySchema: table.KeySchema,
        AttributeDefinitions: table.AttributeDefinitions,
        BillingMode: table.BillingMode,
        ...(table.BillingMode === 'PROVISIONED'
          ? {
              ProvisionedThroughput: table.ProvisionedThroughput ?? {
                ReadCapacityUnits: 5,
                WriteCapacityUnits: 5,
              },
            }
          : {}),
        ...(table.GlobalSecondaryIndexes
          ? {
              GlobalSecondaryIndexes: resolveValue(
                table.GlobalSecondaryIndexes,
                context.resolved,
                context.pseudo,
              ),
            }
          : {}),
        ...(table.LocalSecondaryIndexes
          ? {
              LocalSecondaryIndexes: resolveValue(
                table.LocalSecondaryIndexes,
                context.resolved,
                context.pseudo,
              ),
            }
          : {}),
      } as CreateTableCommandInput;
      await dynamodb.send(new CreateTableCommand(input));
      action = 'created';
    }
    description = await waitUntil(
      () => tableDescription(dynamodb, name),
      (candidate) => candidate?.TableStatus === 'ACTIVE',
      label,
      'dynamodb',
      context,
    );
    const existingKeys = keySchemaText(description.KeySchema ?? []);
    const declaredKeys = keySchemaText(table.KeySchema);
    if (existingKeys !== declaredKeys) {
      const dir = join(context.running.dataDir, 'dynamodb');
      throw new ResourceConflictError(
        `${label} exists in ${dir} with key schema ${existingKeys}, but the template declares ${declaredKeys}: ` +
          `delete ${dir} to recreate it (its items are lost)`,
      );
    }
    if (table.ttlAttribute !== undefined) {
      context.log(
        `${label}: TTL on "${table.ttlAttribute}" is not emulated (dynalite has no UpdateTimeToLive); expired items stay`,
      );
    }
    report(context, table.logicalId, label, action, table.BillingMode);
    return { type: CFN_TYPE, ref: name, attributes: { Arn: description.TableArn as string } };
  },
};

async function tableDescription(dynamodb: DynamoDBClient, name: string) {
  try {
    return (await dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

function keySchemaText(keySchema: { AttributeName?: string; KeyType?: string }[]): string {
  return keySchema
    .map((key) => `${key.AttributeName} ${key.KeyType}`)
    .sort((a, b) => (a.endsWith('HASH') ? -1 : b.endsWith('HASH') ? 1 : 0))
    .join(', ');
}
