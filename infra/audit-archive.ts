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
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  AppendDelimiterToRecordProcessor,
  Compression,
  DeliveryStream,
  EnableLogging,
  S3Bucket,
  StreamEncryption,
} from 'aws-cdk-lib/aws-kinesisfirehose';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
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
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket receives the archive bucket’s server access logs; logging it to itself would loop, and to another bucket would only move the question.',
    });

    this.bucket = new Bucket(this, 'Bucket', {
      versioned: true,
      encryption: BucketEncryption.S3_MANAGED,
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

    // CloudFormation types the size filter as a string (CDK writes a number, which it coerces).
    (this.bucket.node.defaultChild as CfnBucket).addPropertyOverride(
      'LifecycleConfiguration.Rules.0.ObjectSizeGreaterThan',
      '0',
    );

    this.deliveryStream = new DeliveryStream(this, 'DeliveryStream', {
      encryption: StreamEncryption.awsOwnedKey(),
      destination: new S3Bucket(this.bucket, {
        dataOutputPrefix: ARCHIVE_DATA_PREFIX,
        errorOutputPrefix: ARCHIVE_ERROR_PREFIX,
        compression: Compression.GZIP,
        bufferingInterval: Duration.minutes(5),
        bufferingSize: Size.mebibytes(64),
        loggingConfig: new EnableLogging(
          new LogGroup(this, 'DeliveryLogs', {
            retention: RetentionDays.TWO_YEARS,
            removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
          }),
        ),
        // Raw delivery sends bare JSON documents; one per line is what Athena's JSON SerDe reads.
        processors: [new AppendDelimiterToRecordProcessor()],
      }),
    });

    const bucketArn = `<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>`;
    const grantReason =
      'From the Firehose L2 S3 destination grant (bucket.grantReadWrite): Firehose writes, lists and aborts multipart uploads under any date-partitioned prefix of this one archive bucket.';
    Validations.of(this.deliveryStream).acknowledge(
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map(
        (action) => ({ id: `AwsSolutions-IAM5[Action::${action}]`, reason: grantReason }),
      ),
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/*]`, reason: grantReason },
    );
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
