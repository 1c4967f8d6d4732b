import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpHandlerOptions, HttpRequest, HttpResponse } from '@smithy/types';
import { emulatorClientConfig } from '../../support/aws.js';

/**
 * A LocalStack-style edge for the Lambda composition roots: `createLambdaWorker` and
 * `createLambdaPlanner` take ONE `awsClientConfig` for all their clients (as with one edge
 * endpoint), while the tests run three emulators. This request handler, given to every client,
 * routes each request by its `X-Amz-Target` (DynamoDB → DynamoDB Local, Secrets Manager → the
 * fake, everything else → fauxqs for SNS and SQS). The SDK clients, serializers, retries and
 * adapters stay the real ones; only the socket they connect to is chosen here.
 *
 * `before` lets a test act on a call before it is sent: hold it (interleave two workers) or
 * throw (a crash of the DynamoDB write between publish and save).
 */
export interface AwsEdge {
  /** Spread into `awsClientConfig`. */
  readonly clientConfig: Record<string, unknown>;
  /** `DynamoDB_20120810.UpdateItem`, `secretsmanager.GetSecretValue`, `AmazonSQS.…`, `SNS.<Action>`. */
  readonly calls: string[];
  before: ((call: EdgeCall) => Promise<void> | void) | undefined;
}

export interface EdgeCall {
  /** `dynamodb`, `secretsmanager`, `sqs` or `sns`. */
  readonly service: string;
  /** The operation, e.g. `UpdateItem`. */
  readonly operation: string;
}

export interface EdgeTargets {
  readonly fauxqs: string;
  readonly dynamodb: string;
  readonly secretsManager: string;
}

/** DynamoDB operations that write (the snapshot store's head and shard writes). */
export const DYNAMODB_WRITES: ReadonlySet<string> = new Set([
  'PutItem',
  'UpdateItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

export function createAwsEdge(targets: EdgeTargets): AwsEdge {
  const calls: string[] = [];
  const edge: { before: AwsEdge['before'] } = { before: undefined };
  const hostOf = (endpoint: string) => new URL(endpoint);

  class EdgeHandler extends NodeHttpHandler {
    override async handle(
      request: Parameters<NodeHttpHandler['handle']>[0],
      options?: HttpHandlerOptions,
    ): Promise<{ response: HttpResponse }> {
      const call = identify(request);
      calls.push(`${call.service}.${call.operation}`);
      await edge.before?.(call);
      const target = hostOf(
        call.service === 'dynamodb'
          ? targets.dynamodb
          : call.service === 'secretsmanager'
            ? targets.secretsManager
            : targets.fauxqs,
      );
      request.hostname = target.hostname;
      request.port = Number(target.port);
      request.headers.host = target.host;
      return super.handle(request, options);
    }
  }

  return {
    clientConfig: {
      ...emulatorClientConfig(targets.fauxqs),
      requestHandler: new EdgeHandler({ connectionTimeout: 5_000 }),
    },
    calls,
    get before() {
      return edge.before;
    },
    set before(hook) {
      edge.before = hook;
    },
  };
}

function identify(request: HttpRequest): EdgeCall {
  const target = headerOf(request, 'x-amz-target');
  if (target !== undefined) {
    const [prefix = '', operation = ''] = target.split('.');
    if (prefix.startsWith('DynamoDB_')) return { service: 'dynamodb', operation };
    if (prefix === 'secretsmanager') return { service: 'secretsmanager', operation };
    if (prefix === 'AmazonSQS') return { service: 'sqs', operation };
    return { service: prefix.toLowerCase(), operation };
  }
  // SNS speaks the query protocol: Action=Publish… in a form body.
  const body = typeof request.body === 'string' ? request.body : '';
  const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body)?.[1] ?? 'unknown';
  return { service: 'sns', operation: action };
}

function headerOf(request: HttpRequest, name: string): string | undefined {
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}
