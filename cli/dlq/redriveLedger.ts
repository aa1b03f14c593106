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
 * `dlq redrive` skips it and `verify` counts its records as redriven. A put that fails part way leaves
 * notes beside it (`sk` `<id>/put/<sequence number>`, no status) of the records it got on the stream.
 * This module owns that layout.
 */

/** Where the ledger lives: the pipeline's state table. */
export interface RedriveLedger {
  dynamo: DynamoDBClient;
  tableName: string;
}

const LEDGER_PK = 'redrive';
const ledgerKey = (id: string) => ({ pk: { S: LEDGER_PK }, sk: { S: id } });
/** Ids hold no '/', so an entry's notes sort under it and no other entry's. */
const partialPutPrefix = (id: string) => `${id}/put/`;
/** Sequence numbers per note: 500 of them take about 30 KB, well inside DynamoDB's 400 KB item. */
const NOTE_MAX_SEQUENCE_NUMBERS = 500;

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
 * Marks a claimed entry done, with the sequence numbers its records were given (the first 500; after a
 * put that failed part way, those of the rerun only).
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
 * Notes which records of a claimed entry a put that failed part way got onto the stream all the same, by
 * their original sequence numbers, so that a rerun leaves them out. One item per 500 (a failed batch can
 * hold 10,000 records), keyed by its first: a rerun that fails too adds notes of its own.
 *
 * @example
 * ```ts
 * await notePartialPut({ dynamo, tableName }, id, ['4960…11', '4960…13']);
 * ```
 */
export async function notePartialPut(
  ledger: RedriveLedger,
  id: string,
  sequenceNumbers: readonly string[],
): Promise<void> {
  for (let i = 0; i < sequenceNumbers.length; i += NOTE_MAX_SEQUENCE_NUMBERS) {
    const note = sequenceNumbers.slice(i, i + NOTE_MAX_SEQUENCE_NUMBERS);
    await ledger.dynamo.send(
      new PutItemCommand({
        TableName: ledger.tableName,
        Item: {
          ...ledgerKey(`${partialPutPrefix(id)}${note[0]}`),
          putBack: { L: note.map((s) => ({ S: s })) },
          notedAt: { N: String(Date.now()) },
        },
      }),
    );
  }
}

/**
 * The original sequence numbers of the records of an entry that earlier puts, failed part way, got onto
 * the stream (notePartialPut).
 *
 * @example
 * ```ts
 * const alreadyPut = await notedPartialPuts({ dynamo, tableName }, id); // Set { '4960…11', '4960…13' }
 * ```
 */
export async function notedPartialPuts(ledger: RedriveLedger, id: string): Promise<Set<string>> {
  const sequenceNumbers = new Set<string>();
  const pages = paginateQuery(
    { client: ledger.dynamo },
    {
      TableName: ledger.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': { S: LEDGER_PK }, ':prefix': { S: partialPutPrefix(id) } },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? [])
      for (const s of item.putBack?.L ?? []) if (s.S) sequenceNumbers.add(s.S);
  }
  return sequenceNumbers;
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
