import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { BucketLevel } from '../bitrix24/leaky-bucket.js';
import { type BucketStateStore, mergeLevels, type TakenBucket } from '../bitrix24/shared-bucket.js';
import { isConditionalCheckFailed } from './conditional-check.js';
import { portalStatePartitionKey } from './snapshot-table.js';

/**
 * BucketStateStore on the snapshot table: one item per portal beside its hint state,
 * `pk = <portalId>#portal`, `sk = bucket`, with `level`, `at` (epoch ms) and `version`. The
 * hand-back is a conditional put on the version taken; on a conflict it merges with the stored
 * counter and tries again (a few times: only the planner and a worker ever overlap).
 */
export interface DynamoDbBucketStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** The rate budget's sort key (the hint store's Query returns this item too). */
export const BUCKET_SORT_KEY = 'bucket';
const ATTEMPTS = 4;

export function createDynamoDbBucketStore(options: DynamoDbBucketStoreOptions): BucketStateStore {
  const { client, tableName } = options;
  const key = (portalId: string) => ({
    pk: portalStatePartitionKey(portalId),
    sk: BUCKET_SORT_KEY,
  });

  async function take(portalId: string): Promise<TakenBucket> {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: key(portalId), ConsistentRead: true }),
    );
    if (!Item || typeof Item.level !== 'number' || typeof Item.at !== 'number') return {};
    return {
      level: { level: Item.level, at: Item.at },
      ...(typeof Item.version === 'number' ? { version: Item.version } : {}),
    };
  }

  async function handBack(portalId: string, level: BucketLevel, taken: TakenBucket) {
    let next = level;
    let base = taken.level;
    let version = taken.version;
    for (let attempt = 1; ; attempt++) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...key(portalId), level: next.level, at: next.at, version: (version ?? 0) + 1 },
            ...(version === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : {
                  ConditionExpression: 'version = :v',
                  ExpressionAttributeValues: { ':v': version },
                }),
          }),
        );
        return;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        if (attempt >= ATTEMPTS) throw error;
        // Another process handed back since: count what it added on top of ours.
        const stored = await take(portalId);
        if (stored.level) next = mergeLevels(next, stored.level, base);
        base = stored.level;
        version = stored.version;
      }
    }
  }

  return { take, handBack };
}
