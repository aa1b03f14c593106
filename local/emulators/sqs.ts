/**
 * Child process: fauxqs (SQS) on 127.0.0.1, made durable by the journal in `--dir` (see sqsJournal.ts).
 *
 * Not `startFauxqs()`: it always listens on 0.0.0.0, and its persistence needs `node:sqlite` (Node >= 22.5).
 * This launcher builds the same server from fauxqs's `buildApp` with a journalled SqsStore and listens on
 * loopback. Only SQS is durable; fauxqs's SNS and S3 endpoints stay in memory and Shardline uses neither.
 */
import { readFileSync } from 'node:fs';
import { refuseBrowserRequests } from './browserGuard';
import { runEmulator } from './launcher';
import { stubNodeSqliteForFauxqs } from './nodeSqliteStub';
import type { FauxqsSqsStore } from './sqsJournal';
import { loadJournal } from './sqsJournal';

const TESTED_FAUXQS = /^2\.4\./;
const ACCOUNT_ID = '000000000000';

stubNodeSqliteForFauxqs();

const fauxqsEntry = import.meta.resolve('fauxqs');
const { version } = JSON.parse(readFileSync(new URL('../package.json', fauxqsEntry), 'utf8')) as {
  version: string;
};
if (!TESTED_FAUXQS.test(version)) {
  console.error(
    `[sqs] warning: fauxqs ${version} is installed; the journal was written against fauxqs 2.4 internals (local/emulators/sqsJournal.ts)`,
  );
}
const { buildApp } = await import('fauxqs');
const { SqsStore } = (await import(new URL('./sqs/sqsStore.js', fauxqsEntry).href)) as {
  SqsStore: new () => FauxqsSqsStore & { buildQueueUrl: (name: string) => string };
};

await runEmulator('sqs', async ({ port, dir }) => {
  const store = new SqsStore();
  // Queue URLs point at this server, whatever port a previous run used; fauxqs's default
  // (sqs.<region>.localhost) needs DNS for *.localhost, which not every resolver has.
  const queueUrl = (name: string) => `http://127.0.0.1:${port}/${ACCOUNT_ID}/${name}`;
  store.buildQueueUrl = queueUrl;
  const journal = loadJournal(store, dir, queueUrl);
  const app = buildApp({
    logger: false,
    defaultRegion: process.env.AWS_REGION ?? 'us-east-1',
    // buildApp creates the SNS and S3 stores itself when they are absent.
    stores: { sqsStore: store } as unknown as NonNullable<Parameters<typeof buildApp>[0]>['stores'],
  });
  try {
    await app.listen({ port, host: '127.0.0.1' });
    refuseBrowserRequests(app.server);
  } catch (error) {
    journal.close();
    throw error;
  }
  return async () => {
    await app.close();
    journal.close();
  };
});
