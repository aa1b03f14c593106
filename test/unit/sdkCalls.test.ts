import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionsForCommands, UnmappedSdkCommandError } from '../../lib/permissions';
import { commandsImported, sdkCallsOf, UnreadableSdkImportError } from '../../scripts/auditBundles';

const PROJECT_ROOT = resolve(import.meta.dirname, '../..');

describe('sdkCallsOf', () => {
  it('lists the commands the reachable code sends, a paginator as its command, and not those of dead code', async () => {
    const { commands, sources } = await sdkCallsOf(PROJECT_ROOT, 'test/fixtures/sdkCalls/handler.ts');
    // deadCode.ts sends a DeleteObjectCommand, but the handler never calls it: tree shaking drops it.
    expect(commands).toEqual(['GetObjectCommand', 'ListObjectsV2Command']);
    expect(sources).toEqual({
      GetObjectCommand: ['test/fixtures/sdkCalls/handler.ts'],
      ListObjectsV2Command: ['test/fixtures/sdkCalls/handler.ts'],
    });
  });
});

describe('commandsImported', () => {
  it('reads named imports spread over several lines and ignores clients, exceptions and enums', () => {
    const text = [
      'import { readFile } from "node:fs/promises";',
      'import {',
      '  ConditionalCheckFailedException,',
      '  DynamoDBClient,',
      '  UpdateItemCommand as UpdateItemCommand2',
      '} from "@aws-sdk/client-dynamodb";',
      'import { ShardIteratorType, paginateListShards } from "@aws-sdk/client-kinesis";',
    ].join('\n');
    expect(commandsImported('h.ts', text)).toEqual(['ListShardsCommand', 'UpdateItemCommand']);
  });

  it.each([
    ['a namespace import', 'import * as s3 from "@aws-sdk/client-s3";'],
    ['a waiter', 'import { waitUntilObjectExists } from "@aws-sdk/client-s3";'],
    ['a package other than a client', 'import { Upload } from "@aws-sdk/lib-storage";'],
  ])('refuses %s, whose calls it cannot tell', (_, text) => {
    expect(() => commandsImported('h.ts', text)).toThrow(UnreadableSdkImportError);
  });
});

describe('actionsForCommands', () => {
  it('maps commands to the IAM actions AWS authorizes them as', () => {
    expect(
      actionsForCommands([
        'ListObjectsV2Command',
        'SendMessageBatchCommand',
        'GetObjectCommand',
        'HeadObjectCommand',
      ]),
    ).toEqual(['s3:GetObject', 's3:ListBucket', 'sqs:SendMessage']);
  });

  it('fails on a command it has no action for, saying where to add it', () => {
    expect(() => actionsForCommands(['RestoreObjectCommand'])).toThrow(UnmappedSdkCommandError);
    expect(() => actionsForCommands(['RestoreObjectCommand'])).toThrow(
      /SDK_COMMAND_ACTIONS in lib\/permissions\.ts/,
    );
  });
});
