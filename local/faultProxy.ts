import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ShardlineError } from '../lambdas/shared/errors';

/**
 * A fault-injecting HTTP proxy on loopback, one port per AWS service, in front of the local emulators.
 * Point a function's endpoints at it (`PipelineOptions.functionEndpoints`) and it forwards every request
 * unchanged, except those a rule picks, which fail the way AWS fails: a throttling or 5xx error answered
 * without reaching the service, a connection that stalls and resets, a write that lands but whose
 * response is lost, a PutRecords call with some entries refused, a service that is down.
 *
 * No emulator throttles or fails on its own (see /work/shared/NOTES.md), so this is how Shardline's
 * retries, fencing and exactly-once commit are tested against the real local pipeline. It is a test tool:
 * it binds 127.0.0.1 only and buffers whole request and response bodies.
 */

export type ProxiedService = 'kinesis' | 'dynamodb' | 's3' | 'sqs';

const PROXIED_SERVICES: readonly ProxiedService[] = ['kinesis', 'dynamodb', 's3', 'sqs'];

export type Fault =
  /** Answer with this AWS error; the request never reaches the service. */
  | { kind: 'error'; status: number; code: string; message?: string }
  /** The service's own throttling error (ProvisionedThroughputExceeded, SlowDown, RequestThrottled). */
  | { kind: 'throttle' }
  /** Hold the request for `ms`, then reset the connection: a timeout where nothing reached the service. */
  | { kind: 'stall'; ms: number }
  /** Forward the request, then reset the connection instead of answering: the write landed, the caller cannot know. */
  | { kind: 'lostResponse' }
  /** Kinesis PutRecords only: refuse each entry with this probability, as a throttled shard does. */
  | { kind: 'partialFailure'; ratio: number }
  /** Reset the connection at once: the service is down. */
  | { kind: 'unavailable' };

export interface FaultRule {
  service: ProxiedService;
  /** API operations the rule applies to (`PutObject`, `UpdateItem`, `PutRecords`, …); default every one. */
  operations?: readonly string[];
  fault: Fault;
  /** Share of the matching requests the fault hits, from 0 to 1. */
  rate: number;
  /** The first this many matching requests are always hit (then `rate` applies), so a short run sees the fault. */
  always?: number;
}

export interface OperationStats {
  requests: number;
  /** Requests a fault hit, by fault kind. */
  injected: Partial<Record<Fault['kind'], number>>;
  /** PutRecords entries refused by `partialFailure`. */
  refusedEntries: number;
  /** Requests the proxy could not forward because the service did not answer (it was down). */
  upstreamErrors: number;
}

export type FaultProxyStats = Record<ProxiedService, Record<string, OperationStats>>;

export interface StartFaultProxyOptions {
  /** The real endpoint of each service, `http://127.0.0.1:<port>`. */
  upstream: Record<ProxiedService, string>;
  /** Seed of the generator that decides which requests a rule hits, so a run can be repeated. Default 1. */
  seed?: number;
}

export interface FaultProxy {
  /** The proxy's endpoint for each service. */
  readonly endpoints: Record<ProxiedService, string>;
  /** Replaces the active rules; the first rule that matches a request and fires decides its fate. */
  setRules(rules: readonly FaultRule[]): void;
  /** Back to forwarding everything. */
  clearRules(): void;
  /** Requests and injected faults per service and operation since the start or the last reset. */
  stats(): FaultProxyStats;
  resetStats(): void;
  close(): Promise<void>;
}

export class FaultRuleError extends ShardlineError {
  constructor(detail: string) {
    super(`invalid fault rule: ${detail}`);
    this.name = 'FaultRuleError';
  }
}

const LOOPBACK = '127.0.0.1';

const JSON_PROTOCOL: Record<Exclude<ProxiedService, 's3'>, { contentType: string; throttle: string }> = {
  kinesis: { contentType: 'application/x-amz-json-1.1', throttle: 'ProvisionedThroughputExceededException' },
  dynamodb: { contentType: 'application/x-amz-json-1.0', throttle: 'ProvisionedThroughputExceededException' },
  sqs: { contentType: 'application/x-amz-json-1.0', throttle: 'RequestThrottled' },
};

/**
 * Starts one proxy listener per service on free loopback ports.
 *
 * @example
 * ```ts
 * const proxy = await startFaultProxy({ upstream: emulators.endpoints, seed: 7 });
 * proxy.setRules([{ service: 's3', operations: ['PutObject'], fault: { kind: 'error', status: 500, code: 'InternalError' }, rate: 0.2 }]);
 * // … run the pipeline against proxy.endpoints …
 * proxy.clearRules();
 * await proxy.close();
 * ```
 */
export async function startFaultProxy(options: StartFaultProxyOptions): Promise<FaultProxy> {
  const random = seededRandom(options.seed ?? 1);
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  let rules: readonly FaultRule[] = [];
  /** Matching requests each active rule has seen, for `always`. */
  let seen = new Map<FaultRule, number>();
  let stats = emptyStats();

  const servers = await Promise.all(
    PROXIED_SERVICES.map(async (service) => {
      const upstream = new URL(options.upstream[service]);
      const server = createServer((req, res) => {
        readBody(req)
          .then((body) => handle(service, upstream, req, res, body))
          .catch(() => req.socket.destroy());
      });
      await listen(server);
      return { service, server };
    }),
  );

  function operationStats(service: ProxiedService, operation: string): OperationStats {
    const byOperation = stats[service];
    byOperation[operation] ??= { requests: 0, injected: {}, refusedEntries: 0, upstreamErrors: 0 };
    return byOperation[operation];
  }

  function pickFault(service: ProxiedService, operation: string): Fault | undefined {
    for (const rule of rules) {
      if (rule.service !== service) continue;
      if (rule.operations && !rule.operations.includes(operation)) continue;
      const matched = (seen.get(rule) ?? 0) + 1;
      seen.set(rule, matched);
      if (matched <= (rule.always ?? 0) || random() < rule.rate) return rule.fault;
    }
    return undefined;
  }

  async function handle(
    service: ProxiedService,
    upstream: URL,
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
  ) {
    const operation = operationOf(service, req);
    const counters = operationStats(service, operation);
    counters.requests++;
    const fault = pickFault(service, operation);
    if (fault) counters.injected[fault.kind] = (counters.injected[fault.kind] ?? 0) + 1;

    switch (fault?.kind) {
      case 'error':
        return sendError(
          res,
          service,
          fault.status,
          fault.code,
          fault.message ?? 'injected by the fault proxy',
        );
      case 'throttle':
        return service === 's3'
          ? sendError(res, service, 503, 'SlowDown', 'Please reduce your request rate.')
          : sendError(res, service, 400, JSON_PROTOCOL[service].throttle, 'Rate exceeded');
      case 'unavailable':
        return req.socket.destroy();
      case 'stall':
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        return req.socket.destroy();
      case 'lostResponse': {
        await forward(upstream, req, body).catch(() => undefined);
        return req.socket.destroy();
      }
      case 'partialFailure':
        if (service === 'kinesis' && operation === 'PutRecords') {
          return putRecordsWithRefusals(upstream, req, res, body, fault.ratio, counters);
        }
        break;
    }
    try {
      reply(res, await forward(upstream, req, body));
    } catch {
      counters.upstreamErrors++;
      req.socket.destroy();
    }
  }

  /** Forwards only the entries that are not refused, then answers for all of them in request order. */
  async function putRecordsWithRefusals(
    upstream: URL,
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    ratio: number,
    counters: OperationStats,
  ) {
    const request = JSON.parse(body.toString('utf8')) as { StreamName?: string; Records: unknown[] };
    const refused = request.Records.map(() => random() < ratio);
    counters.refusedEntries += refused.filter(Boolean).length;
    const kept = request.Records.filter((_, index) => !refused[index]);
    const refusal = {
      ErrorCode: 'ProvisionedThroughputExceededException',
      ErrorMessage: `Rate exceeded for stream ${request.StreamName ?? ''} (injected by the fault proxy)`,
    };
    let accepted: Array<Record<string, unknown>> = [];
    let acceptedFailures = 0;
    if (kept.length > 0) {
      let answer: UpstreamResponse;
      try {
        answer = await forward(upstream, req, Buffer.from(JSON.stringify({ ...request, Records: kept })));
      } catch {
        counters.upstreamErrors++;
        return req.socket.destroy();
      }
      if (answer.status !== 200) return reply(res, answer);
      const parsed = JSON.parse(answer.body.toString('utf8')) as {
        FailedRecordCount?: number;
        Records: Array<Record<string, unknown>>;
      };
      accepted = parsed.Records;
      acceptedFailures = parsed.FailedRecordCount ?? 0;
    }
    let next = 0;
    const records = refused.map((isRefused) => (isRefused ? refusal : accepted[next++]));
    const merged = {
      FailedRecordCount: acceptedFailures + refused.filter(Boolean).length,
      Records: records,
    };
    const json = Buffer.from(JSON.stringify(merged));
    res.writeHead(200, { 'content-type': JSON_PROTOCOL.kinesis.contentType, 'content-length': json.length });
    res.end(json);
  }

  function forward(upstream: URL, req: IncomingMessage, body: Buffer): Promise<UpstreamResponse> {
    const headers = { ...req.headers, 'content-length': String(body.length) };
    // The body is already here: nothing to wait for, and no chunked framing to pass on.
    delete headers.expect;
    delete headers['transfer-encoding'];
    delete headers.connection;
    return new Promise((resolve, reject) => {
      const outgoing = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers,
          agent,
        },
        (incoming) => {
          readBody(incoming).then(
            (responseBody) =>
              resolve({ status: incoming.statusCode ?? 502, headers: incoming.headers, body: responseBody }),
            reject,
          );
        },
      );
      outgoing.once('error', reject);
      outgoing.end(body);
    });
  }

  return {
    endpoints: Object.fromEntries(
      servers.map(({ service, server }) => [
        service,
        `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`,
      ]),
    ) as Record<ProxiedService, string>,
    setRules(next) {
      for (const rule of next) validateRule(rule);
      rules = [...next];
      seen = new Map();
    },
    clearRules() {
      rules = [];
      seen = new Map();
    },
    stats: () => structuredClone(stats),
    resetStats() {
      stats = emptyStats();
    },
    async close() {
      rules = [];
      await Promise.all(
        servers.map(
          ({ server }) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
      agent.destroy();
    },
  };
}

interface UpstreamResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function reply(res: ServerResponse, answer: UpstreamResponse) {
  const headers = { ...answer.headers, 'content-length': String(answer.body.length) };
  delete headers['transfer-encoding'];
  delete headers.connection;
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

function sendError(
  res: ServerResponse,
  service: ProxiedService,
  status: number,
  code: string,
  message: string,
) {
  const requestId = randomUUID();
  if (service === 's3') {
    const xml =
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
      `<RequestId>${requestId}</RequestId></Error>`;
    res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': requestId });
    res.end(xml);
    return;
  }
  const body = JSON.stringify({ __type: code, message });
  res.writeHead(status, {
    'content-type': JSON_PROTOCOL[service].contentType,
    'x-amzn-errortype': code,
    'x-amzn-requestid': requestId,
    // SQS's JSON protocol also names the error the way its query protocol did.
    ...(service === 'sqs' ? { 'x-amzn-query-error': `${code};Sender` } : {}),
  });
  res.end(body);
}

/**
 * The API operation of a request: from `X-Amz-Target` for the JSON protocols (Kinesis, DynamoDB, SQS),
 * from the method and path for S3 (path-style: `/<bucket>` or `/<bucket>/<key>`).
 *
 * @example
 * ```ts
 * operationOf('dynamodb', { headers: { 'x-amz-target': 'DynamoDB_20120810.UpdateItem' } }); // 'UpdateItem'
 * operationOf('s3', { method: 'PUT', url: '/lake/events/a.parquet', headers: {} }); // 'PutObject'
 * ```
 */
export function operationOf(
  service: ProxiedService,
  req: Pick<IncomingMessage, 'headers'> & Partial<Pick<IncomingMessage, 'method' | 'url'>>,
): string {
  if (service !== 's3') {
    const target = req.headers['x-amz-target'];
    return typeof target === 'string' ? (target.split('.').pop() ?? 'Unknown') : 'Unknown';
  }
  const url = new URL(req.url ?? '/', 'http://proxy');
  const hasKey = url.pathname.split('/').filter(Boolean).length > 1;
  switch (req.method) {
    case 'PUT':
      if (!hasKey) return 'CreateBucket';
      return req.headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
    case 'GET':
      return hasKey ? 'GetObject' : 'ListObjects';
    case 'HEAD':
      return hasKey ? 'HeadObject' : 'HeadBucket';
    case 'DELETE':
      return hasKey ? 'DeleteObject' : 'DeleteBucket';
    case 'POST':
      return url.searchParams.has('delete') ? 'DeleteObjects' : 'PostObject';
    default:
      return 'Unknown';
  }
}

function validateRule(rule: FaultRule) {
  if (!PROXIED_SERVICES.includes(rule.service)) throw new FaultRuleError(`unknown service ${rule.service}`);
  if (!(rule.rate >= 0 && rule.rate <= 1))
    throw new FaultRuleError(`rate must be from 0 to 1 (got ${rule.rate})`);
  if (rule.always !== undefined && !(Number.isInteger(rule.always) && rule.always >= 0)) {
    throw new FaultRuleError(`always must be a whole number (got ${rule.always})`);
  }
  if (rule.fault.kind === 'partialFailure' && !(rule.fault.ratio >= 0 && rule.fault.ratio <= 1)) {
    throw new FaultRuleError(`partialFailure ratio must be from 0 to 1 (got ${rule.fault.ratio})`);
  }
  if (rule.fault.kind === 'partialFailure' && rule.service !== 'kinesis') {
    throw new FaultRuleError('partialFailure applies to Kinesis PutRecords only');
  }
}

function emptyStats(): FaultProxyStats {
  return { kinesis: {}, dynamodb: {}, s3: {}, sqs: {} };
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

function listen(server: Server): Promise<void> {
  // Sockets the proxy resets on purpose must not take the process down with an unhandled error.
  server.on('clientError', (_error, socket: Socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** mulberry32: small, fast and repeatable; this is for picking requests, not for secrets. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
