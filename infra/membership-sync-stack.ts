import { fileURLToPath } from 'node:url';
import {
  Annotations,
  type CfnElement,
  CfnOutput,
  Duration,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import type { Config } from '../functions/config/config-schema.js';
import { AuditArchive } from './audit-archive.js';
import { EventTopic } from './event-topic.js';
import { SyncMonitoring } from './monitoring.js';
import { PortalSecrets } from './portal-secrets.js';
import { SnapshotTable } from './snapshot-table.js';
import { SyncFunction } from './sync-function.js';
import { maxEventAgeFor, SyncSchedule, schedulePeriod } from './sync-schedule.js';
import { WorkQueue } from './work-queue.js';

const handlerPath = (name: string) =>
  fileURLToPath(new URL(`../functions/handlers/${name}.ts`, import.meta.url));

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
 * one secret per portal, alarms and a dashboard. IAM comes only from `grant*` calls.
 */
export class MembershipSyncStack extends Stack {
  constructor(scope: Construct, id: string, props: MembershipSyncStackProps) {
    super(scope, id, props);
    const { config } = props;

    // One customer-managed key for the SNS topics: CloudWatch alarms cannot publish to a topic
    // under the AWS-managed SNS key, and a CMK lets subscribers be granted decrypt explicitly.
    const messagesKey = new Key(this, 'MessagesKey', {
      description: 'Bitrix24 membership sync: SNS topic encryption',
      enableKeyRotation: true,
    });

    const secrets = new PortalSecrets(this, 'Secrets', { portals: config.portals });
    const secretArns = Stack.of(this).toJsonString(
      Object.fromEntries(
        [...secrets.byPortal].map(([portal, secret]) => [portal, secret.secretArn]),
      ),
    );

    const snapshots = new SnapshotTable(this, 'Snapshots');

    const fifoArchive = config.topic.kind === 'fifo' && config.archive.enabled;
    const events = new EventTopic(this, 'Events', {
      kind: config.topic.kind,
      masterKey: messagesKey,
      fifoArchiveDays: fifoArchive ? 365 : undefined,
    });

    const workerTimeout = Duration.minutes(5);
    const work = new WorkQueue(this, 'Work', { consumerTimeout: workerTimeout });

    const worker = new SyncFunction(this, 'Worker', {
      entry: props.workerEntry ?? handlerPath('worker'),
      description: 'Reads a work item of up to 50 chats, diffs, publishes events, saves snapshots',
      config,
      memorySize: 1024,
      timeout: workerTimeout,
      environment: {
        TABLE_NAME: snapshots.table.tableName,
        TOPIC_ARN: events.topic.topicArn,
        SECRET_ARNS: secretArns,
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
      entry: props.plannerEntry ?? handlerPath('planner'),
      description: 'Splits the configured (or discovered) chats into FIFO work items',
      config,
      memorySize: 256,
      timeout: Duration.minutes(1),
      environment: {
        WORK_QUEUE_URL: work.queue.queueUrl,
        SECRET_ARNS: secretArns,
        TABLE_NAME: snapshots.table.tableName,
      },
    });

    snapshots.table.grantReadWriteData(worker);
    events.topic.grantPublish(worker);
    const tableArn = `<${this.getLogicalId(snapshots.table.node.defaultChild as CfnElement)}.Arn>`;
    Validations.of(worker).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${tableArn}/index/*]`,
        reason:
          'grantReadWriteData covers the indexes of the snapshot table only (the byPortal GSI is queried to list a portal’s chats).',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason:
          'grantPublish on the encrypted topic grants kms:GenerateDataKey* (GenerateDataKey and its WithoutPlaintext variant) on the one topic key only.',
      },
    );
    work.queue.grantSendMessages(planner);
    // Both functions call Bitrix24 (the planner for discovery, before any worker runs) and so both
    // may have to refresh OAuth tokens: each writes the new pair back (PutSecretValue,
    // UpdateSecretVersionStage) under the portal's refresh lease. A planner that could refresh
    // but not store would lose the rotated pair.
    snapshots.grantRefreshLeases(planner);
    for (const secret of secrets.byPortal.values()) {
      for (const fn of [worker, planner]) {
        secret.grantRead(fn);
        secret.grantWrite(fn);
      }
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
      new AuditArchive(this, 'Archive', { topic: events.topic });
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
      workQueue: work.queue,
      workDeadLetterQueue: work.deadLetterQueue,
      scheduleGroup: schedule.group,
      scheduleDeadLetterQueue: schedule.deadLetterQueue,
      topic: events.topic,
      portalIds: config.portals.map((p) => p.id),
      schedulePeriod: schedulePeriod(config.schedule.expression),
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
    for (const [portal, secret] of secrets.byPortal) {
      new CfnOutput(this, `SecretArn-${portal}`, {
        description: `Secret holding the Bitrix24 credentials of portal "${portal}"`,
        value: secret.secretArn,
      });
    }
  }
}
