import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { runAthenaQuery } from '../../cli/lake/athena';
import { QueryError } from '../../cli/lake/views';

const athena = mockClient(AthenaClient);
beforeEach(() => athena.reset());
afterAll(() => athena.restore());
const query = {
  sql: 'SELECT event_type, count(*) AS n FROM events GROUP BY 1',
  workGroup: 'shardline-dev',
  database: 'shardline_dev',
  pollMs: 0,
};

describe('query --target aws on Athena', () => {
  it('starts the query in the stack workgroup and database, waits for it, and returns typed rows', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce({
        NextToken: 'page2',
        ResultSet: {
          ResultSetMetadata: {
            ColumnInfo: [
              { Name: 'event_type', Type: 'varchar' },
              { Name: 'n', Type: 'bigint' },
            ],
          },
          Rows: [
            { Data: [{ VarCharValue: 'event_type' }, { VarCharValue: 'n' }] },
            { Data: [{ VarCharValue: 'page_view' }, { VarCharValue: '3942' }] },
          ],
        },
      })
      .resolves({ ResultSet: { Rows: [{ Data: [{ VarCharValue: 'add_to_cart' }, {}] }] } });

    const result = await runAthenaQuery(new AthenaClient({}), query);

    expect(athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input).toEqual({
      QueryString: query.sql,
      WorkGroup: 'shardline-dev',
      QueryExecutionContext: { Database: 'shardline_dev' },
    });
    expect(result).toEqual({
      columns: ['event_type', 'n'],
      rows: [
        ['page_view', 3942],
        ['add_to_cart', null],
      ],
    });
  });

  it("fails with Athena's own reason when the query fails", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q2' });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        Status: { State: 'FAILED', StateChangeReason: "line 1:8: Column 'nope' cannot be resolved" },
      },
    });
    await expect(runAthenaQuery(new AthenaClient({}), query)).rejects.toThrowError(QueryError);
    await expect(runAthenaQuery(new AthenaClient({}), query)).rejects.toThrowError(
      /Column 'nope' cannot be resolved/,
    );
  });
});
