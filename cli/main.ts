import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { exitStatusOf, ShardlineError } from '../lambdas/shared/errors';
import { OUTPUT_FORMATS, type OutputFormat } from './format';
import { TARGETS, type TargetName } from './targets';

/**
 * The `shardline` command line. Each command lives in cli/commands/<name>.ts and is loaded only when
 * it runs, so `--help` and light commands start fast.
 */

export interface GlobalOptions {
  dataDir: string;
  json: boolean;
}

export interface TargetOptions extends GlobalOptions {
  target: TargetName;
  stage: string;
}

const DEFAULT_DATA_DIR = '.shardline';

/** The version in package.json, the one place it is written. */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
  return String((manifest as { version: string }).version);
}

export function integer(name: string, min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    }
    return n;
  };
}

export function ratio(value: string) {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

/** `--format json` still works, as another spelling of `--json` (the one documented way). */
export function outputFormat(value: string): OutputFormat {
  if (!(OUTPUT_FORMATS as readonly string[]).includes(value))
    throw new InvalidArgumentError('must be table or csv (for JSON, use --json)');
  return value as OutputFormat;
}

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'where local data and state live')
    .default(DEFAULT_DATA_DIR)
    .argParser((d) => resolve(d));
const jsonOption = () => new Option('--json', 'print one machine-readable JSON object').default(false);
const targetOption = () =>
  new Option('--target <target>', 'where the stack runs: the local runtime, LocalStack or AWS')
    .choices(TARGETS)
    .default('local');
const stageOption = () =>
  new Option('--stage <stage>', 'stage of the deployed stack (localstack, aws)').default('dev');

function buildProgram(): Command {
  const program = new Command('shardline')
    .description('Exactly-once Kinesis → Lambda → S3 pipeline, on your laptop and in AWS.')
    .version(packageVersion(), '-V, --version', 'print the version of shardline')
    .showSuggestionAfterError(true)
    .exitOverride();
  program.configureOutput({
    outputError: (text, write) => write(`shardline: ${text.replace(/^error: /, '')}`),
  });

  program
    .command('demo')
    .description('start everything, produce events, wait until processed, summarise, query, stop')
    .addOption(
      new Option('--events <n>', 'events to produce')
        .default(10_000)
        .argParser(integer('--events', 1, 10_000_000)),
    )
    .addOption(new Option('--invalid-ratio <r>', 'share of invalid records').default(0.02).argParser(ratio))
    .addOption(
      new Option('--seed <n>', 'generator seed').default(1).argParser(integer('--seed', 0, 2 ** 32 - 1)),
    )
    .addOption(new Option('--stage <stage>', 'stage whose template to run').default('dev'))
    .addOption(new Option('--keep', 'keep the demo data directory instead of starting clean').default(false))
    .addOption(dataDirOption().default(resolve(DEFAULT_DATA_DIR, 'demo')))
    .addOption(jsonOption())
    .action(async (options) => (await import('./commands/demo')).demo(options));

  program
    .command('up')
    .description('run the emulators, provision from the CDK template and run the consumer, in the foreground')
    .addOption(new Option('--stage <stage>', 'stage whose template to run').default('dev'))
    .addOption(
      new Option(
        '--no-synth',
        'use the template already in cdk.out without checking it (by default the app is synthesized again only when an input changed)',
      ),
    )
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (options) => (await import('./commands/up')).up(options));

  program
    .command('produce')
    .description('send generated events, or your own with --file, through the producer function')
    .addOption(
      new Option('--events <n>', 'events to produce')
        .default(1_000)
        .argParser(integer('--events', 1, 10_000_000)),
    )
    .addOption(new Option('--invalid-ratio <r>', 'share of invalid records').default(0.02).argParser(ratio))
    .addOption(
      new Option('--seed <n>', 'generator seed').default(1).argParser(integer('--seed', 0, 2 ** 32 - 1)),
    )
    .addOption(
      new Option('--tenants <n>', 'number of tenants').default(3).argParser(integer('--tenants', 1, 1_000)),
    )
    .addOption(
      new Option('--anomalies', 'also inject one known instance of each alerting pattern').default(false),
    )
    .addOption(
      new Option('--rate <n>', 'events per second (default: as fast as possible)').argParser(
        integer('--rate', 1, 1_000_000),
      ),
    )
    .addOption(targetOption())
    .addOption(stageOption())
    .addOption(dataDirOption())
    .addOption(
      new Option(
        '--file <path>',
        'send the events of this file instead (NDJSON, JSON array or CSV with a header; .gz accepted; - reads standard input)',
      ),
    )
    .addOption(
      new Option(
        '--format <format>',
        'format of --file (default: from the extension, else from the first bytes)',
      ).choices(['ndjson', 'json', 'csv']),
    )
    .addOption(
      new Option(
        '--strict',
        'with --file: refuse the input if any record is not a valid event (default: send it; the consumer puts it in the DLQ)',
      ).default(false),
    )
    .addOption(jsonOption())
    .action(async (options, command: Command) => {
      const given = new Set(
        Object.keys(options).filter((name) => command.getOptionValueSource(name) === 'cli'),
      );
      return (await import('./commands/produce')).produceCommand(options, given);
    });

  program
    .command('status')
    .description('per-shard checkpoint and lag, DLQ depth, object counts and service endpoints')
    .addOption(
      new Option('--watch [seconds]', 'refresh every few seconds until Ctrl-C').argParser(
        integer('--watch', 1, 3600),
      ),
    )
    .addOption(targetOption())
    .addOption(stageOption())
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (options) => (await import('./commands/status')).status(options));

  program
    .command('dashboard')
    .description('serve a live dashboard of the local pipeline on 127.0.0.1, in the foreground')
    .addOption(
      new Option('--port <n>', 'port on 127.0.0.1 (default: a free one)').argParser(
        integer('--port', 1, 65_535),
      ),
    )
    .addOption(targetOption())
    .addOption(stageOption())
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (options) =>
      (await import('./commands/dashboard')).dashboard({
        ...options,
        defaultDataDir: resolve(DEFAULT_DATA_DIR),
      }),
    );

  program
    .command('query')
    .description(
      'run SQL with DuckDB over a local mirror of the lake, or on Athena with --target aws (views: events, events_csv, errors, windows, windows_merged, window_totals, sessions, session_stats, alerts, alert_summary, late_events, engagement, user_engagement)',
    )
    .argument('<sql>', 'the SQL to run')
    .addOption(
      new Option('--format <format>', 'text output format: table or csv (for JSON, use --json)')
        .default('table')
        .argParser(outputFormat),
    )
    .addOption(targetOption())
    .addOption(stageOption())
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (sql, options) => (await import('./commands/query')).query(sql, options));

  program
    .command('bench')
    .description(
      'run the benchmarks, as npm run bench does: [--only consumer,e2e,packaging,memory,cost] [--quick] [--render]',
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_options, command) => (await import('./commands/bench')).bench(command.args));

  program
    .command('verify')
    .description('reconcile every record retained in the stream against Parquet, CSV and the DLQ')
    .addOption(targetOption())
    .addOption(stageOption())
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (options) => (await import('./commands/verify')).verify(options));

  const dlq = program.command('dlq').description('inspect and redrive the dead-letter queue');
  const kindOption = () =>
    new Option('--kind <kind>', 'invalid records, on-failure batches, or both')
      .choices(['invalid', 'on-failure', 'all'])
      .default('all');
  dlq
    .command('list')
    .description('list DLQ entries: invalid records (deduplicated) and on-failure batches')
    .addOption(kindOption())
    .addOption(
      new Option('--limit <n>', 'show at most n entries')
        .default(50)
        .argParser(integer('--limit', 1, 100_000)),
    )
    .addOption(targetOption())
    .addOption(stageOption())
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (options) => (await import('./commands/dlq')).dlqList(options));
  dlq
    .command('show')
    .description('show one entry in full, with its payload')
    .argument('<id>', 'a recordId (shardId:sequenceNumber) or an on-failure id (shardId:start-end)')
    .addOption(targetOption())
    .addOption(stageOption())
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (id, options) => (await import('./commands/dlq')).dlqShow(id, options));
  dlq
    .command('redrive')
    .description('put DLQ entries back on the stream (invalid ones after an optional fix), idempotently')
    .addOption(kindOption())
    .addOption(
      new Option(
        '--fix <module>',
        'JS or TS module exporting (record) => fixedRecord | null; runs in a child process without AWS credentials',
      ),
    )
    .addOption(new Option('--dry-run', 'report what would happen, change nothing').default(false))
    .addOption(
      new Option(
        '--since <when>',
        'only failed batches that failed since then: a duration (6h, 7d) or an ISO date',
      ),
    )
    .addOption(targetOption())
    .addOption(stageOption())
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (options) => (await import('./commands/dlq')).dlqRedrive(options));

  for (const action of ['deploy', 'destroy'] as const) {
    program
      .command(action)
      .description(`${action} the stack to AWS (cdk) or LocalStack (cdklocal)`)
      .addOption(
        new Option('--target <target>', 'where to deploy').choices(['aws', 'localstack']).default('aws'),
      )
      .addOption(stageOption())
      .addOption(new Option('--yes', 'do not ask for approval (CI)').default(false))
      .addOption(dataDirOption())
      .addOption(jsonOption())
      .action(async (options) => (await import('./commands/deploy'))[action](options));
  }

  return program;
}

/**
 * Runs the CLI and returns the exit status: 0 success, 1 a check that found a problem (a `verify`
 * mismatch, a failed demo check), 2 a usage or environment error, 3 a crash. An error is one line on
 * stderr, or `{ "error": { "code", "message" } }` under `--json`.
 */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  const fail = (code: string, message: string, status: number) => {
    process.stderr.write(
      json ? `${JSON.stringify({ error: { code, message } })}\n` : `shardline: ${message}\n`,
    );
    return status;
  };
  // Under --json, commander's own message is replaced by the JSON one below (subcommands copied the
  // root's output settings when they were made, so each is set).
  const silence = (command: Command): void => {
    command.configureOutput({ outputError: () => {} });
    for (const sub of command.commands) silence(sub);
  };
  if (json) silence(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; anything else commander refuses is a usage error.
      if (error.exitCode === 0) return 0;
      return json
        ? fail(
            error.code
              .replace(/^commander\./, 'USAGE_')
              .toUpperCase()
              .replaceAll('-', '_'),
            error.message.replace(/^error: /, ''),
            2,
          )
        : 2;
    }
    if (error instanceof ShardlineError) return fail(error.code, error.message, exitStatusOf(error));
    // SDK errors from an emulator can carry a bare name as their message ("UnknownError"): add the status.
    const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
    const isAwsError = status !== undefined;
    const text =
      error instanceof Error
        ? error.message === error.name
          ? `${error.name} (an AWS call failed${status ? ` with HTTP ${status}` : ''})`
          : error.message
        : String(error);
    if (process.env.SHARDLINE_DEBUG) console.error(error);
    // An AWS error is the environment's (a stopped emulator, missing credentials); anything else a crash.
    return fail(isAwsError ? 'AWS_REQUEST_FAILED' : 'INTERNAL', text, isAwsError ? 2 : 3);
  }
}
