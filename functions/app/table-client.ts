import type { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The Lambdas' client of the snapshot table, traced, with one marshalling for every store on it
 * (snapshots, hint state, rate budget, OAuth leases): an absent optional attribute is left out
 * of the item rather than failing the write.
 */
export function createTableClient(
  tracer: Pick<Tracer, 'captureAWSv3Client'>,
  config: DynamoDBClientConfig,
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient(config)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
