import {
  type CfnElement,
  Duration,
  RemovalPolicy,
  Stack,
  TimeZone,
  Validations,
} from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  type CfnSchedule,
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleGroup,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { scheduleIntervalMs } from '../functions/config/config-schema.js';

export interface SyncScheduleProps {
  /** `rate(…)` or `cron(…)`, validated by the config schema. */
  readonly expression: string;
  /** IANA time zone the cron fields are read in (a `rate(…)` has none: it is set only for cron). */
  readonly timeZone: string;
  readonly target: IFunction;
  /**
   * Scheduler retries of a failed planner invocation (0–185).
   * @default 4
   */
  readonly retryAttempts?: number;
}

/**
 * EventBridge Scheduler (the successor of scheduled rules) → planner, in a schedule group of its
 * own so the Scheduler's per-group metrics describe only this job. Failed invocations go, after
 * retries, to a DLQ of their own.
 */
export class SyncSchedule extends Construct {
  readonly schedule: Schedule;
  readonly group: ScheduleGroup;
  readonly deadLetterQueue: Queue;
  /** The role Scheduler assumes to invoke the planner and write to the DLQ. */
  readonly role: Role;

  constructor(scope: Construct, id: string, props: SyncScheduleProps) {
    super(scope, id);
    // The group has a fixed name and holds no data: deleted with the stack (CDK would retain it),
    // so neither a retried first deploy nor a redeploy after deletion meets "already exists".
    this.group = new ScheduleGroup(this, 'Group', { removalPolicy: RemovalPolicy.DESTROY });
    // Scheduler DLQs must be standard queues.
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'cdk-validator-cfnguard::sqs_dlq_check',
      reason:
        'The dead-letter queue is the end of the line: its depth alarms (docs/operations.md).',
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        // Only schedules of this account may assume it (confused-deputy guard).
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    this.schedule = new Schedule(this, 'Schedule', {
      description: 'Bitrix24 chat membership sync: one planner run per tick',
      scheduleGroup: this.group,
      schedule: ScheduleExpression.expression(props.expression, TimeZone.of(props.timeZone)),
      target: new LambdaInvoke(props.target, {
        role: this.role,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 4,
        // A tick older than its period is superseded by the next one.
        maxEventAge: maxEventAgeFor(props.expression),
        // The planner derives its deterministic deduplication IDs from the scheduled time, so a
        // retried invocation of the same tick enqueues nothing twice.
        input: ScheduleTargetInput.fromObject({
          scheduledTime: ContextAttribute.scheduledTime,
          executionId: ContextAttribute.executionId,
          attemptNumber: ContextAttribute.attemptNumber,
        }),
      }),
    });

    // A time zone means nothing to rate(…) (CDK would still write its Etc/UTC default).
    if (!props.expression.startsWith('cron(')) {
      (this.schedule.node.defaultChild as CfnSchedule).addPropertyDeletionOverride(
        'ScheduleExpressionTimezone',
      );
    }
    // CloudFormation cannot infer these: the schedule names its group by a literal name, and
    // its first tick must not find the role without its invoke permission.
    this.schedule.node.addDependency(this.group, this.role);

    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(props.target.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason:
        'The LambdaInvoke target grants lambda:InvokeFunction on the planner and its qualified ARNs (versions/aliases) of this one function only.',
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of the EventBridge Scheduler target; its depth is alarmed.',
    });
  }
}

/** The interval between ticks (`scheduleIntervalMs`), used for event age and freshness. */
export function schedulePeriod(expression: string): Duration {
  return Duration.millis(scheduleIntervalMs(expression));
}

/** One schedule period, within Scheduler's 60 s–24 h bounds. */
export function maxEventAgeFor(expression: string): Duration {
  const seconds = schedulePeriod(expression).toSeconds();
  return Duration.seconds(Math.min(86_400, Math.max(60, seconds)));
}
