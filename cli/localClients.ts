import { dynamoClient, kinesisClient, s3Client, sqsClient } from '../lambdas/shared/clients';
import type { RuntimeInfo, Service } from '../local/runtimeState';

/** SDK clients pointed at the emulators of a running `shardline up`. */
export function localClients(runtime: Pick<RuntimeInfo, 'endpoints' | 'region' | 'credentials'>) {
  const options = (service: Service) => ({
    endpoint: runtime.endpoints[service],
    region: runtime.region,
    credentials: runtime.credentials,
  });
  return {
    kinesis: kinesisClient(options('kinesis')),
    dynamo: dynamoClient(options('dynamodb')),
    s3: s3Client(options('s3')),
    sqs: sqsClient(options('sqs')),
  };
}

export type LocalClients = ReturnType<typeof localClients>;
