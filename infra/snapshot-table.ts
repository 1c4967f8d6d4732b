import { RemovalPolicy } from 'aws-cdk-lib';
import {
  type Attribute,
  AttributeType,
  Billing,
  ProjectionType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  PORTAL_STATE_PARTITION_SUFFIX,
  REFRESH_LEASE_PARTITION_SUFFIX,
  SHARD_PARTITION_SUFFIX,
  snapshotTableDefinition,
} from '../functions/adapters/snapshot-table.js';

/**
 * What the worker does on the snapshot table (the snapshot, hint-state and rate-budget stores of
 * `functions/adapters`): no deletes, no BatchWriteItem (its DeleteRequest could remove any item),
 * no scans, no streams.
 */
export const WORKER_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
] as const;

export interface SnapshotTableProps {
  /**
   * Key schema, GSI and TTL attribute, as the store adapter expects them.
   * @default snapshotTableDefinition (functions/adapters/snapshot-table.ts)
   */
  readonly definition?: typeof snapshotTableDefinition;
}

/**
 * The snapshot store: the base state of the audit trail, so it is retained on stack deletion,
 * protected against deletion, point-in-time recoverable and encrypted. On-demand billing: the
 * load is a burst per schedule tick and idle in between.
 */
export class SnapshotTable extends Construct {
  readonly table: TableV2;

  constructor(scope: Construct, id: string, props: SnapshotTableProps = {}) {
    super(scope, id);
    const d = props.definition ?? snapshotTableDefinition;
    this.table = new TableV2(this, 'Table', {
      partitionKey: attribute(d.partitionKey),
      sortKey: attribute(d.sortKey),
      globalSecondaryIndexes: [
        {
          indexName: d.portalIndex.indexName,
          partitionKey: attribute(d.portalIndex.partitionKey),
          sortKey: attribute(d.portalIndex.sortKey),
          projectionType: ProjectionType[d.portalIndex.projection],
        },
      ],
      // Retired snapshot shards and abandoned refresh leases expire; heads never carry it.
      timeToLiveAttribute: d.timeToLiveAttribute,
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryptionV2.awsManagedKey(),
      deletionProtection: true,
      // Plain Retain, unlike the stack's other retained resources: a rollback could not delete
      // a deletion-protected table anyway (it would fail the rollback), and the table has a
      // generated name, so one left by a failed first create does not block the retry.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * The worker's reads and writes ({@link WORKER_TABLE_ACTIONS}), none of which may touch the TTL
   * attribute: a head given `expiresAt` would be deleted by TTL. Only retired shards get it, in
   * their own partition (`<pk>#shards`), and there only `expiresAt` may be set. The leases'
   * TTL comes with {@link grantRefreshLeases}.
   */
  grantWorkerAccess(grantee: IGrantable): void {
    const ttl = snapshotTableDefinition.timeToLiveAttribute;
    Grant.addToPrincipal({
      grantee,
      actions: [...WORKER_TABLE_ACTIONS],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringNotEquals': { 'dynamodb:Attributes': [ttl] } },
    });
    Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`*${SHARD_PARTITION_SUFFIX}`] },
        'ForAllValues:StringEquals': {
          'dynamodb:Attributes': [
            snapshotTableDefinition.partitionKey.name,
            snapshotTableDefinition.sortKey.name,
            ttl,
          ],
        },
        // As AWS's attribute-limited UpdateItem examples do: ALL_OLD/ALL_NEW would hand back
        // attributes outside the list (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
        StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
      },
    });
  }

  /**
   * Taking and releasing the portals' OAuth refresh leases (`dynamodb-refresh-lease.ts`) and
   * nothing else: the partition key must end in the lease suffix, so no snapshot is reachable.
   */
  grantRefreshLeases(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
      resourceArns: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [`*${REFRESH_LEASE_PARTITION_SUFFIX}`],
        },
      },
    });
  }

  /**
   * Reading the snapshots, never writing them: the planner lists a portal's stored chats on the
   * keys-only `byPortal` index and loads the ones that left the configured or discovered set
   * (`functions/core/departed-chats.ts`).
   */
  grantSnapshotsRead(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query', 'dynamodb:BatchGetItem'],
      resourceArns: [
        this.table.tableArn,
        `${this.table.tableArn}/index/${snapshotTableDefinition.portalIndex.indexName}`,
      ],
    });
  }

  /**
   * Reading and writing the portals' hinted-reads state and shared rate budget
   * (`dynamodb-hint-store.ts`, `dynamodb-bucket-store.ts`) and nothing else: the partition key
   * must end in the portal-state suffix, so no snapshot is reachable.
   */
  grantPortalState(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [`*${PORTAL_STATE_PARTITION_SUFFIX}`],
        },
      },
    });
  }
}

const ATTRIBUTE_TYPES = {
  S: AttributeType.STRING,
  N: AttributeType.NUMBER,
  B: AttributeType.BINARY,
};

function attribute(a: { readonly name: string; readonly type: 'S' | 'N' | 'B' }): Attribute {
  return { name: a.name, type: ATTRIBUTE_TYPES[a.type] };
}
