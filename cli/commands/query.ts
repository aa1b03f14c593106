import { AthenaClient } from '@aws-sdk/client-athena';
import { resourceNames } from '../../lambdas/shared/naming';
import { CliError } from '../errors';
import { formatResult, type OutputFormat } from '../format';
import { runAthenaQuery } from '../lake/athena';
import { resolveTargetOrStoppedCopy } from '../lake/localCopy';
import { openTargetLake } from '../lake/targetLake';
import { type Lake, QueryError } from '../lake/views';
import type { TargetOptions } from '../main';

export interface QueryOptions extends TargetOptions {
  format: OutputFormat;
}

export async function query(sql: string, options: QueryOptions): Promise<void> {
  const resolved = await resolveTargetOrStoppedCopy(options);
  if ('copy' in resolved) return runOn(resolved.copy.lake, sql, options);
  const { target } = resolved;
  if (target.name === 'aws') {
    // On AWS the lake is queried where it is: Athena, in the stack's workgroup and Glue database.
    const names = resourceNames(target.resources.stage);
    try {
      const result = await runAthenaQuery(new AthenaClient({ region: target.resources.region }), {
        sql,
        workGroup: names.athenaWorkGroupName,
        database: names.glueDatabaseName,
      });
      console.log(formatResult(result, options.json ? 'json' : options.format));
      return;
    } catch (error) {
      if (error instanceof QueryError) throw new CliError(`query failed: ${error.message}`);
      throw error;
    }
  }
  const { lake } = await openTargetLake(target, options.dataDir);
  return runOn(lake, sql, options);
}

async function runOn(lake: Lake, sql: string, options: QueryOptions): Promise<void> {
  try {
    const result = await lake.query(sql);
    console.log(formatResult(result, options.json ? 'json' : options.format));
  } catch (error) {
    if (error instanceof QueryError) throw new CliError(`query failed: ${error.message}`);
    throw error;
  } finally {
    lake.close();
  }
}
