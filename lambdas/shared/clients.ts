import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ENV } from './config';

/**
 * AWS SDK v3 clients configured to work unchanged in AWS Lambda and against the local emulators.
 *
 * Endpoints come from the SDK's own service-specific variables (`AWS_ENDPOINT_URL_KINESIS`, …), which
 * the local runtime sets and AWS leaves unset. Three settings are always on because the emulators need
 * them and AWS accepts them:
 * - an HTTP/1.1 handler (kinesalite rejects the SDK's HTTP/2 handler with "Protocol error");
 * - checksums only when an operation requires them (s3rver stores aws-chunked framing inside objects
 *   otherwise, a silent corruption);
 * - keep-alive sockets, which matter more than anything else for batch throughput.
 */
export interface ClientOptions {
  env?: NodeJS.ProcessEnv;
  /** Override the SDK's retry count (tests of failure paths set 1). */
  maxAttempts?: number;
  /** Explicit endpoint, region and credentials: the CLI passes those of the running local stack. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

function requestHandler() {
  return new NodeHttpHandler({
    httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
  });
}

function common(options: ClientOptions) {
  return {
    requestHandler: requestHandler(),
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  };
}

export function kinesisClient(options: ClientOptions = {}): KinesisClient {
  return new KinesisClient(common(options));
}

export function dynamoClient(options: ClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(common(options));
}

export function sqsClient(options: ClientOptions = {}): SQSClient {
  return new SQSClient(common(options));
}

export function s3Client(options: ClientOptions = {}): S3Client {
  const env = options.env ?? process.env;
  return new S3Client({
    ...common(options),
    forcePathStyle: options.endpoint !== undefined || env[ENV.s3ForcePathStyle] === 'true',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
