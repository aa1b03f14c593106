import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';

/**
 * The redrive ledger: one item per DLQ entry or failed batch in the state table (`pk` 'redrive', `sk`
 * its id), 'putting' while its records go back on the stream and 'done' after, so that a rerun of
 * `dlq redrive` skips it and `verify` counts its records as redriven. This module owns that layout.
 */

/** Where the ledger lives: the pipeline's state table. */
export interface RedriveLedger {
  dynamo: DynamoDBClient;
  tableName: string;
}

const LEDGER_PK = 'redrive';
const ledgerKey = (id: string) => ({ pk: { S: LEDGER_PK }, sk: { S: id } });

/**
 * The status of an entry in the ledger: 'putting', 'done', or null if it was never redriven.
 *
 * @example
 * ```ts
 * if ((await ledgerStatus({ dynamo, tableName }, id)) === 'done') return 'already-redriven';
 * ```
 */
export async function ledgerStatus(ledger: RedriveLedger, id: string): Promise<string | null> {
  const { Item } = await ledger.dynamo.send(
    new GetItemCommand({ TableName: ledger.tableName, Key: ledgerKey(id), ConsistentRead: true }),
  );
  return Item?.status?.S ?? null;
}

/**
 * Claims the ledger entry before putting: a second redrive of the same entry finds it. A claim left at
 * 'putting' by a crash is retried (the put may then happen twice, the one window this cannot close).
 *
 * @example
 * ```ts
 * await claimRedrive({ dynamo, tableName }, id);
 * ```
 */
export async function claimRedrive(ledger: RedriveLedger, id: string): Promise<void> {
  try {
    await ledger.dynamo.send(
      new PutItemCommand({
        TableName: ledger.tableName,
        Item: { ...ledgerKey(id), status: { S: 'putting' }, startedAt: { N: String(Date.now()) } },
        ConditionExpression: 'attribute_not_exists(pk) OR #status = :putting',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':putting': { S: 'putting' } },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return;
    throw error;
  }
}

/**
 * Marks a claimed entry done, with the sequence numbers its records were given (the first 500).
 *
 * @example
 * ```ts
 * await markRedriven({ dynamo, tableName }, id, sequenceNumbers);
 * ```
 */
export async function markRedriven(ledger: RedriveLedger, id: string, sequenceNumbers: string[]) {
  await ledger.dynamo.send(
    new UpdateItemCommand({
      TableName: ledger.tableName,
      Key: ledgerKey(id),
      UpdateExpression: 'SET #status = :done, redrivenAt = :now, newSequenceNumbers = :seqs',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':done': { S: 'done' },
        ':now': { N: String(Date.now()) },
        ':seqs': { L: sequenceNumbers.slice(0, 500).map((s) => ({ S: s })) },
      },
    }),
  );
}

/**
 * The ids of every entry a redrive has put back on the stream.
 *
 * @example
 * ```ts
 * const redriven = await redrivenIds({ dynamo, tableName }); // Set { 'shardId-000000000000:4959…', … }
 * ```
 */
export async function redrivenIds(ledger: RedriveLedger): Promise<Set<string>> {
  const ids = new Set<string>();
  const pages = paginateQuery(
    { client: ledger.dynamo },
    {
      TableName: ledger.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: LEDGER_PK } },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) if (item.status?.S === 'done' && item.sk?.S) ids.add(item.sk.S);
  }
  return ids;
}
