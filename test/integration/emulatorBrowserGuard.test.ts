import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient, kinesisClient, s3Client, sqsClient } from '../../lambdas/shared/clients';
import { clientOptionsFor, type RunningEmulators, SERVICES, startEmulators } from '../../local/emulators';

/**
 * The real emulators, as `shardline up` starts them, against what a web page could send them. Without the
 * guard (local/emulators/browserGuard.ts) kinesalite and dynalite answer a CORS preflight from any origin
 * with `Access-Control-Allow-Origin: *`, so a page that finds the port could read the stream and rewrite
 * checkpoints.
 */
let running: RunningEmulators;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'shardline-browser-guard-'));
  running = await startEmulators({ dataDir });
}, 60_000);

afterAll(async () => {
  await running?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

function send(endpoint: string, method: string, headers: Record<string, string>, body = ''): Promise<Answer> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: '/', method, headers, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const PREFLIGHT = {
  origin: 'https://evil.example',
  'access-control-request-method': 'POST',
  'access-control-request-headers': 'content-type,x-amz-target',
};

describe('the local emulators and web browsers', () => {
  it.each(SERVICES)(
    '%s refuses a CORS preflight from a web page, with no Access-Control-Allow-Origin',
    async (service) => {
      const answer = await send(running.endpoints[service], 'OPTIONS', PREFLIGHT);
      expect(answer.status).toBe(403);
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    },
  );

  it.each(SERVICES)(
    '%s refuses a simple cross-origin POST, which a browser sends without a preflight',
    async (service) => {
      const answer = await send(
        running.endpoints[service],
        'POST',
        { origin: 'https://evil.example', 'content-type': 'text/plain' },
        '{}',
      );
      expect(answer.status).toBe(403);
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    },
  );

  it.each(SERVICES)(
    '%s refuses a request made under a foreign host name (DNS rebinding)',
    async (service) => {
      const answer = await send(running.endpoints[service], 'GET', { host: 'rebind.evil.example' });
      expect(answer.status).toBe(403);
    },
  );

  it.each(SERVICES)(
    '%s refuses a same-origin request a browser marks with Sec-Fetch headers',
    async (service) => {
      const answer = await send(running.endpoints[service], 'GET', {
        'sec-fetch-mode': 'no-cors',
        'sec-fetch-site': 'cross-site',
      });
      expect(answer.status).toBe(403);
    },
  );

  it('still serves the AWS SDK on every emulator', async () => {
    const options = (service: (typeof SERVICES)[number]) => clientOptionsFor(running, service);
    await expect(kinesisClient(options('kinesis')).send(new ListStreamsCommand({}))).resolves.toBeDefined();
    await expect(dynamoClient(options('dynamodb')).send(new ListTablesCommand({}))).resolves.toBeDefined();
    await expect(s3Client(options('s3')).send(new ListBucketsCommand({}))).resolves.toBeDefined();
    await expect(sqsClient(options('sqs')).send(new ListQueuesCommand({}))).resolves.toBeDefined();
  });
});
