import {
  CfnDeletionPolicy,
  type CfnElement,
  CfnResource,
  Duration,
  RemovalPolicy,
  Size,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  AppendDelimiterToRecordProcessor,
  Compression,
  DeliveryStream,
  EnableLogging,
  S3Bucket,
  StreamEncryption,
} from 'aws-cdk-lib/aws-kinesisfirehose';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectLockRetention,
  ObjectOwnership,
  StorageClass,
} from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { FirehoseSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Hive-style date partitions: Athena partition projection reads them without crawlers. */
export const ARCHIVE_DATA_PREFIX =
  'events/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/';
export const ARCHIVE_ERROR_PREFIX =
  'errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/';

export interface AuditArchiveProps {
  /** A standard topic (SNS FIFO topics cannot deliver to Firehose). */
  readonly topic: ITopic;
  /** @default Duration.days(90) */
  readonly transitionToGlacierIrAfter?: Duration;
  /** @default Duration.days(30) */
  readonly noncurrentVersionExpiration?: Duration;
  /** @default Duration.days(365) */
  readonly accessLogExpiration?: Duration;
  /** S3 Object Lock default retention of every archived file. */
  readonly objectLock: {
    readonly mode: 'governance' | 'compliance';
    readonly retentionDays: number;
  };
  /** SSE-KMS under this key; default SSE-S3. */
  readonly encryptionKey?: IKey;
  /** Encrypts the delivery log group; default CloudWatch Logs' own encryption. */
  readonly logsKey?: IKey;
}

/**
 * The audit archive: every published event, as raw CloudEvent JSON lines (gzip), delivered by a
 * Firehose stream subscribed to the topic into a versioned, retained S3 bucket partitioned by date.
 * Retained resources are kept on delete and update, but removed when the first create rolls back
 * (they are empty then), so a failed first deploy leaves nothing behind.
 */
export class AuditArchive extends Construct {
  readonly bucket: Bucket;
  readonly accessLogsBucket: Bucket;
  readonly deliveryStream: DeliveryStream;

  constructor(scope: Construct, id: string, props: AuditArchiveProps) {
    super(scope, id);
    // Grant S3 log delivery with a bucket policy instead of the legacy LogDeliveryWrite ACL, so
    // both buckets can keep ACLs disabled (BucketOwnerEnforced). Scoped to this construct.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    this.accessLogsBucket = new Bucket(this, 'AccessLogs', {
      // S3 server access logging only delivers to SSE-S3 buckets.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [
        {
          expiration: props.accessLogExpiration ?? Duration.days(365),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      versioned: true,
    });
    const loggingLoop =
      'This bucket receives the archive bucket’s server access logs; logging it to itself would loop, and to another bucket would only move the question.';
    Validations.of(this.accessLogsBucket).acknowledge(
      { id: 'AwsSolutions-S1', reason: loggingLoop },
      { id: 'cdk-validator-cfnguard::s3_bucket_logging_enabled_check', reason: loggingLoop },
      {
        id: 'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check',
        reason: 'S3 server access logging delivers only to SSE-S3 buckets.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check',
        reason:
          'Access logs of the archive expire after a year; the events themselves are locked in the archive bucket.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_event_notifications_enabled_check',
        reason: 'Nothing consumes access-log object events.',
      },
    );

    const { mode, retentionDays } = props.objectLock;
    this.bucket = new Bucket(this, 'Bucket', {
      versioned: true,
      // The audit record: no file is deleted or overwritten for the retention (docs/deploy.md).
      objectLockEnabled: true,
      objectLockDefaultRetention:
        mode === 'compliance'
          ? ObjectLockRetention.compliance(Duration.days(retentionDays))
          : ObjectLockRetention.governance(Duration.days(retentionDays)),
      ...(props.encryptionKey
        ? {
            encryption: BucketEncryption.KMS,
            encryptionKey: props.encryptionKey,
            bucketKeyEnabled: true,
          }
        : { encryption: BucketEncryption.S3_MANAGED }),
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        {
          id: 'audit-tiering',
          // S3 transitions no object under 128 KB unless a rule sets its own size filter, and
          // most five-minute archive batches are smaller (docs/deploy.md, step 7).
          objectSizeGreaterThan: 0,
          transitions: [
            {
              storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: props.transitionToGlacierIrAfter ?? Duration.days(90),
            },
          ],
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(30),
        },
        // A rule of its own: S3 refuses it next to a size filter.
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      // The audit record outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });

    Validations.of(this.bucket).acknowledge({
      id: 'cdk-validator-cfnguard::s3_event_notifications_enabled_check',
      reason: 'Athena reads the archive by date partition; nothing consumes object events.',
    });
    if (!props.encryptionKey) {
      Validations.of(this.bucket).acknowledge({
        id: 'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check',
        reason: 'SSE-S3 by default; SSE-KMS is the opt-in archive.encryption "kms".',
      });
    }

    // CloudFormation types the size filter as a string (CDK writes a number, which it coerces).
    (this.bucket.node.defaultChild as CfnBucket).addPropertyOverride(
      'LifecycleConfiguration.Rules.0.ObjectSizeGreaterThan',
      '0',
    );

    // Firehose on a role of its own: only this account's one delivery stream may assume it, and it
    // may write archive files but never delete one (the L2's grant, bucket.grantReadWrite, would
    // allow s3:DeleteObject*: it is handed an immutable view of the role and adds nothing).
    const stack = Stack.of(this);
    const deliveryStreamName = `${stack.stackName}-archive`;
    const deliveryRole = new Role(this, 'DeliveryRole', {
      assumedBy: new ServicePrincipal('firehose.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnEquals: {
            'aws:SourceArn': stack.formatArn({
              service: 'firehose',
              resource: 'deliverystream',
              resourceName: deliveryStreamName,
            }),
          },
        },
      }),
    });
    deliveryRole.addToPolicy(
      new PolicyStatement({
        actions: [
          's3:AbortMultipartUpload',
          's3:GetBucketLocation',
          's3:GetObject',
          's3:ListBucket',
          's3:ListBucketMultipartUploads',
          's3:PutObject',
        ],
        resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      }),
    );
    if (props.encryptionKey) {
      props.encryptionKey.grantEncryptDecrypt(deliveryRole);
      Validations.of(deliveryRole).acknowledge(
        ...['kms:ReEncrypt*', 'kms:GenerateDataKey*'].map((action) => ({
          id: `AwsSolutions-IAM5[Action::${action}]`,
          reason: 'grantEncryptDecrypt on the archive key only: Firehose writes SSE-KMS objects.',
        })),
      );
    }
    const deliveryLogs = new LogGroup(this, 'DeliveryLogs', {
      retention: RetentionDays.TWO_YEARS,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      ...(props.logsKey ? { encryptionKey: props.logsKey } : {}),
    });
    deliveryLogs.grantWrite(deliveryRole);
    if (!props.logsKey) {
      Validations.of(deliveryLogs).acknowledge({
        id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check',
        reason:
          'CloudWatch Logs encrypts every log group; a customer-managed key is the opt-in logs.encryption "kms".',
      });
    }
    const firehoseRole = deliveryRole.withoutPolicyUpdates();

    this.deliveryStream = new DeliveryStream(this, 'DeliveryStream', {
      deliveryStreamName,
      role: firehoseRole,
      encryption: StreamEncryption.awsOwnedKey(),
      destination: new S3Bucket(this.bucket, {
        role: firehoseRole,
        dataOutputPrefix: ARCHIVE_DATA_PREFIX,
        errorOutputPrefix: ARCHIVE_ERROR_PREFIX,
        compression: Compression.GZIP,
        bufferingInterval: Duration.minutes(5),
        bufferingSize: Size.mebibytes(64),
        loggingConfig: new EnableLogging(deliveryLogs),
        // Raw delivery sends bare JSON documents; one per line is what Athena's JSON SerDe reads.
        processors: [new AppendDelimiterToRecordProcessor()],
      }),
    });

    // The role's statements are in place before the stream checks it can write.
    this.deliveryStream.node.addDependency(deliveryRole);
    const bucketArn = `<${stack.getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>`;
    Validations.of(deliveryRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucketArn}/*]`,
      reason:
        'Firehose writes (and aborts multipart uploads of) files under date-partitioned prefixes of this one archive bucket; it cannot delete any.',
    });
    // The Firehose L2 adds a region→CIDR mapping that only Redshift/Splunk destinations use.
    Validations.of(Stack.of(this)).acknowledge({
      id: 'CloudFormation-Validate::W7001',
      reason:
        'Unused mapping awscdkawskinesisfirehoseCidrBlocks is added by the Firehose L2 for Redshift/Splunk destinations; harmless for S3.',
    });

    // Including what the Firehose L2 adds with its own default (the delivery log stream).
    for (const child of this.node.findAll()) {
      if (
        child instanceof CfnResource &&
        child.cfnOptions.deletionPolicy === CfnDeletionPolicy.RETAIN
      ) {
        child.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
      }
    }

    // SNS assumes this role to write to Firehose; only for this account's one topic
    // (confused-deputy guard).
    const subscriptionRole = new Role(this, 'SubscriptionRole', {
      assumedBy: new ServicePrincipal('sns.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnEquals: { 'aws:SourceArn': props.topic.topicArn },
        },
      }),
    });
    // Raw delivery: the archive holds the CloudEvent itself, not the SNS envelope around it.
    props.topic.addSubscription(
      new FirehoseSubscription(this.deliveryStream, {
        rawMessageDelivery: true,
        role: subscriptionRole,
      }),
    );
  }
}
