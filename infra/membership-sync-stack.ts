import { Annotations, CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { type Config, plannerCallsBitrix24 } from '../functions/config/config-schema.js';
import { AuditArchive } from './audit-archive.js';
import { EventTopic } from './event-topic.js';
import { customerKey, logsKey } from './keys.js';
import { SyncMonitoring } from './monitoring.js';
import { nagResource } from './nag.js';
import { PortalSecrets } from './portal-secrets.js';
import { SnapshotTable } from './snapshot-table.js';
import { SyncFunction } from './sync-function.js';
import { maxEventAgeFor, SyncSchedule, schedulePeriod } from './sync-schedule.js';
import { WorkQueue } from './work-queue.js';

export interface MembershipSyncStackProps extends StackProps {
  /** The validated config (`parseConfig`); bundled into both functions. */
  readonly config: Config;
  /** @default functions/handlers/planner.ts */
  readonly plannerEntry?: string;
  /** @default functions/handlers/worker.ts */
  readonly workerEntry?: string;
}

/**
 * Scheduler → planner → SQS FIFO → worker → SNS (→ Firehose → S3), with the snapshot table,
 * grants on the portals' secrets, alarms and a dashboard. IAM comes only from grants. Nothing in
 * the template grows with the number of portals except an ARN per secret outside the naming
 * convention (docs/scale.md).
 */
export class MembershipSyncStack extends Stack {
  constructor(scope: Construct, id: string, props: MembershipSyncStackProps) {
    super(scope, id, props);
    const { config } = props;

    // One customer-managed key for the SNS topics: CloudWatch alarms cannot publish to a topic
    // under the AWS-managed SNS key, and a CMK lets publishers be granted explicitly. Kept when
    // the stack is deleted or replaces it, but not when the first create rolls back.
    const messagesKey = customerKey(
      this,
      'MessagesKey',
      'Bitrix24 membership sync: SNS topic encryption',
    );
    const logs = config.logs.encryption === 'kms' ? logsKey(this, 'LogsKey') : undefined;

    const secrets = new PortalSecrets(this, 'Secrets', { config });

    const snapshots = new SnapshotTable(this, 'Snapshots');

    const fifoArchive = config.topic.kind === 'fifo' && config.archive.enabled;
    const events = new EventTopic(this, 'Events', {
      kind: config.topic.kind,
      masterKey: messagesKey,
      fifoArchiveDays: fifoArchive ? 365 : undefined,
      subscriberAccounts: config.topic.subscriberAccounts,
    });

    const workerTimeout = Duration.minutes(5);
    const work = new WorkQueue(this, 'Work', { consumerTimeout: workerTimeout });

    const worker = new SyncFunction(this, 'Worker', {
      handler: 'worker',
      entry: props.workerEntry,
      description: 'Reads a work item of up to 50 chats, diffs, publishes events, saves snapshots',
      config,
      logsKey: logs,
      memorySize: 1024,
      timeout: workerTimeout,
      environment: {
        TABLE_NAME: snapshots.table.tableName,
        TOPIC_ARN: events.topic.topicArn,
        // Failed items get a short retry backoff instead of the queue's 30-minute visibility timeout.
        WORK_QUEUE_URL: work.queue.queueUrl,
      },
    });
    worker.addEventSource(
      new SqsEventSource(work.queue, {
        // One work item (≤ 50 chats, several Bitrix24 requests) per invocation keeps the whole
        // 5-minute budget for it; a FIFO batch would also stall its group on the first failure.
        batchSize: 1,
        reportBatchItemFailures: true,
        // Groups are portals and a portal is synced one item at a time, so more concurrency
        // than portals would only idle (SQS→Lambda minimum is 2).
        maxConcurrency: Math.min(1000, Math.max(2, config.portals.length)),
      }),
    );

    const planner = new SyncFunction(this, 'Planner', {
      handler: 'planner',
      entry: props.plannerEntry,
      description: 'Splits the configured (or discovered) chats into FIFO work items',
      config,
      logsKey: logs,
      memorySize: 256,
      timeout: Duration.minutes(1),
      environment: {
        WORK_QUEUE_URL: work.queue.queueUrl,
        TABLE_NAME: snapshots.table.tableName,
      },
    });

    snapshots.grantWorkerAccess(worker);
    // Hinted reads: the planner keeps each portal's hint state and shared rate budget.
    snapshots.grantPortalState(planner);
    // Chats that left the configured or discovered set are read until their last word is out.
    snapshots.grantSnapshotsRead(planner);
    events.topic.grantPublish(worker);
    work.queue.grantSendMessages(planner);
    // A keyset read that runs out of time sends its item back to the queue to go on later.
    work.queue.grantSendMessages(worker);
    // Both functions call Bitrix24 (the planner for the recent-list hints, `im.recent.get`, and
    // for discovery, `im.recent.list`, before any worker runs), so both may refresh OAuth tokens:
    // each writes the new pair back under the portal's refresh lease
    // (docs/oauth-token-refresh.md). A refresher that could not store the rotated pair would
    // lose it. The lease grant is the leases' items only: releasing one deletes it, and the
    // worker's own table grant has no DeleteItem.
    const plannerCalls = config.portals.filter((p) => plannerCallsBitrix24(config, p));
    secrets.grantRead(worker);
    secrets.grantTokenWrite(worker);
    snapshots.grantRefreshLeases(worker);
    secrets.grantRead(planner, plannerCalls);
    secrets.grantTokenWrite(planner, plannerCalls);
    if (plannerCalls.length > 0) snapshots.grantRefreshLeases(planner);

    const secretGrantReason =
      'Secrets by naming convention: one grant on the prefix covers every portal’s secret without one statement per portal (docs/scale.md); writes exclude secrets tagged as webhook.';
    Validations.of(worker.executionRole).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason:
          'grantPublish on the encrypted topic grants kms:GenerateDataKey* (GenerateDataKey and its WithoutPlaintext variant) on the one topic key only.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${nagResource(this, secrets.prefixArn)}]`,
        reason: secretGrantReason,
      },
    );
    if (plannerCalls.length > 0) {
      Validations.of(planner.executionRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResource(this, secrets.prefixArn)}]`,
        reason: secretGrantReason,
      });
    }

    const schedule = new SyncSchedule(this, 'Schedule', {
      expression: config.schedule.expression,
      timeZone: config.schedule.timeZone,
      target: planner,
    });
    // Scheduler invokes Lambda asynchronously: its retry policy covers delivery to Lambda, while
    // a failed planner run (an unplanned portal) is retried by Lambda's async invoke config. Both
    // end in the schedule DLQ, so one alarm covers a tick that was given up.
    planner.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.seconds(
        Math.min(6 * 3600, maxEventAgeFor(config.schedule.expression).toSeconds()),
      ),
      onFailure: new SqsDestination(schedule.deadLetterQueue),
    });

    if (config.archive.enabled && !fifoArchive) {
      const archive = new AuditArchive(this, 'Archive', {
        topic: events.topic,
        objectLock: config.archive.objectLock,
        ...(config.archive.encryption === 'kms'
          ? {
              encryptionKey: customerKey(
                this,
                'ArchiveKey',
                'Bitrix24 membership sync: audit archive',
              ),
            }
          : {}),
        ...(logs ? { logsKey: logs } : {}),
      });
      new CfnOutput(this, 'ArchiveBucketName', {
        description: 'Athena reads the events under s3://<ArchiveBucketName>/events/',
        value: archive.bucket.bucketName,
      });
    } else if (fifoArchive) {
      // SNS FIFO topics deliver to SQS only, so Firehose cannot subscribe; the topic's own
      // archive (replayable, 365 days) stands in for the S3 archive.
      Annotations.of(this).addWarningV2(
        'membership-sync:fifo-archive',
        'archive.enabled with topic.kind "fifo": SNS FIFO topics cannot deliver to Firehose, so the S3/Athena archive is not created; the FIFO topic keeps a 365-day replayable message archive instead.',
      );
    }

    const monitoring = new SyncMonitoring(this, 'Monitoring', {
      planner,
      worker,
      workerLogs: worker.logs,
      plannerLogs: planner.logs,
      workQueue: work.queue,
      workDeadLetterQueue: work.deadLetterQueue,
      scheduleGroup: schedule.group,
      scheduleDeadLetterQueue: schedule.deadLetterQueue,
      topic: events.topic,
      schedulePeriod: schedulePeriod(config.schedule.expression),
      awaitingCredentialsFor: Duration.hours(config.alarms.awaitingCredentialsHours),
      alarmTopicKey: messagesKey,
    });

    new CfnOutput(this, 'TopicArn', {
      description: 'Subscribe here for membership CloudEvents',
      value: events.topic.topicArn,
    });
    new CfnOutput(this, 'TableName', { value: snapshots.table.tableName });
    new CfnOutput(this, 'DashboardUrl', { value: monitoring.dashboardUrl });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Subscribe an address or pager here for alarms',
      value: monitoring.alarmTopic.topicArn,
    });
    new CfnOutput(this, 'WorkDeadLetterQueueUrl', { value: work.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'ScheduleDeadLetterQueueUrl', {
      value: schedule.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'ScheduleName', {
      description:
        'aws scheduler get-schedule --group-name <ScheduleGroupName> --name <ScheduleName>',
      value: schedule.schedule.scheduleName,
    });
    new CfnOutput(this, 'ScheduleGroupName', { value: schedule.group.scheduleGroupName });
    new CfnOutput(this, 'PlannerFunctionName', { value: planner.functionName });
    new CfnOutput(this, 'WorkerLogGroupName', { value: worker.logs.logGroupName });
    new CfnOutput(this, 'SecretNamePrefix', {
      description:
        'Each portal’s secret is <SecretNamePrefix><portal id> unless the config names another',
      value: config.secrets.prefix,
    });
  }
}
