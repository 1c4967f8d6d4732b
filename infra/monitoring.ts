import { ArnFormat, Aws, Duration, Stack } from 'aws-cdk-lib';
import {
  ComparisonOperator,
  GraphWidget,
  LogQueryWidget,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { type ILogGroup, QueryDefinition, QueryString } from 'aws-cdk-lib/aws-logs';
import type { IScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  DefaultDashboardFactory,
  MonitoringFacade,
  SnsAlarmActionStrategy,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import {
  AWAITING_CREDENTIALS_METRIC,
  METRICS_NAMESPACE,
  SERVICE_NAME,
  WORKER_METRICS,
} from '../functions/app/metric-names.js';

export interface SyncMonitoringProps {
  readonly planner: IFunction;
  readonly worker: IFunction;
  /** The worker's log group: the saved Logs Insights queries that name portals read it. */
  readonly workerLogs: ILogGroup;
  readonly plannerLogs: ILogGroup;
  readonly workQueue: IQueue;
  readonly workDeadLetterQueue: IQueue;
  readonly scheduleGroup: IScheduleGroup;
  readonly scheduleDeadLetterQueue: IQueue;
  readonly topic: ITopic;
  /** Interval between schedule ticks. */
  readonly schedulePeriod: Duration;
  /**
   * Alarm when no chat of any portal has synced for this many schedule periods.
   * @default 4
   */
  readonly stalePeriods?: number;
  /**
   * Alarm when some portal has awaited credentials for this long without a break.
   * @default Duration.hours(24)
   */
  readonly awaitingCredentialsFor?: Duration;
  /** Key for the alarm topic; CloudWatch is allowed to use it (AWS-managed keys cannot be). */
  readonly alarmTopicKey: IKey;
}

/** Names of the saved Logs Insights queries, under the stack name (docs/operations.md). */
export const SAVED_QUERIES = {
  failingChats: 'failing-chats',
  heldChanges: 'held-changes',
  awaitingCredentials: 'awaiting-credentials',
} as const;

/**
 * Alarms on every failure path (function errors, both DLQs, dropped or failed schedule
 * invocations, failed SNS deliveries, failing chats, held changes, a job that syncs nothing) to an
 * encrypted alarm topic, and one dashboard of the job at a glance.
 *
 * The alarms cover all portals at once, one alarm per metric, so their number does not grow with
 * the portals; the dashboard's per-portal widgets and the saved Logs Insights queries name the
 * portals behind an alarm. Metrics Insights alarms could name them in the notification, but
 * evaluate at most 500 time series and only the last 3 hours, and a portal that stops reporting
 * drops out of their result instead of breaching (docs/operations.md, "Why one alarm per metric").
 */
export class SyncMonitoring extends Construct {
  readonly alarmTopic: Topic;
  readonly facade: MonitoringFacade;
  readonly dashboardName: string;
  readonly dashboardUrl: string;
  /** Every alarm's name starts with this and a dash; CloudWatch may publish for these only. */
  readonly alarmNamePrefix: string;

  constructor(scope: Construct, id: string, props: SyncMonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.alarmNamePrefix = stack.stackName;

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Bitrix24 membership sync alarms',
      masterKey: props.alarmTopicKey,
      enforceSSL: true,
    });
    this.allowAlarmsToPublish(props.alarmTopicKey);

    this.dashboardName = `${stack.stackName}-membership-sync`;
    this.dashboardUrl = `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${this.dashboardName}`;

    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: this.alarmNamePrefix,
        actionsEnabled: true,
        // One bad datapoint is enough: a failed tick or a DLQ'd item does not repeat every
        // five minutes (the library default is 3 of 3), and each is worth a look.
        datapointsToAlarm: 1,
        evaluationPeriods: 1,
        action: new SnsAlarmActionStrategy({
          onAlarmTopic: this.alarmTopic,
          onOkTopic: this.alarmTopic,
        }),
      },
      metricFactoryDefaults: {},
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: this.dashboardName,
        createDashboard: true,
        createSummaryDashboard: false,
        createAlarmDashboard: false,
        detailDashboardRange: Duration.days(1),
      }),
    });

    const period = props.schedulePeriod;
    const queries = this.addSavedQueries(props.workerLogs, props.plannerLogs);
    this.facade.addLargeHeader('Bitrix24 chat membership sync');
    this.addJobWidgets(period);
    this.addPortalWidgets(period, props.workerLogs, props.plannerLogs);

    this.facade
      .monitorLambdaFunction({
        lambdaFunction: props.planner,
        alarmFriendlyName: 'Planner',
        humanReadableName: 'Planner',
        // Every failure means a tick left some portal unplanned (Lambda retries it twice, then DLQ).
        addFaultCountAlarm: { Critical: { maxErrorCount: 0 } },
        addThrottlesCountAlarm: { Warning: { maxErrorCount: 0 } },
      })
      .monitorLambdaFunction({
        lambdaFunction: props.worker,
        alarmFriendlyName: 'Worker',
        humanReadableName: 'Worker',
        // Per-chat failures are reported as batch item failures, not errors: an error is a
        // crash or timeout of the whole invocation.
        addFaultCountAlarm: { Critical: { maxErrorCount: 0 } },
        addThrottlesCountAlarm: { Warning: { maxErrorCount: 0 } },
      })
      .monitorSqsQueueWithDlq({
        queue: props.workQueue,
        deadLetterQueue: props.workDeadLetterQueue,
        alarmFriendlyName: 'WorkQueue',
        humanReadableName: 'Work queue',
        addDeadLetterQueueMaxSizeAlarm: { Critical: { maxMessageCount: 0 } },
        // A backlog older than a few ticks means the worker cannot keep up with the schedule.
        addQueueMaxMessageAgeAlarm: {
          Warning: { maxAgeInSeconds: Math.max(3600, period.toSeconds() * 4) },
        },
      })
      .monitorSqsQueue({
        queue: props.scheduleDeadLetterQueue,
        alarmFriendlyName: 'ScheduleDLQ',
        humanReadableName: 'Schedule dead-letter queue',
        addQueueMaxSizeAlarm: { Critical: { maxMessageCount: 0 } },
      })
      .monitorSnsTopic({
        topic: props.topic,
        alarmFriendlyName: 'EventTopic',
        humanReadableName: 'Membership event topic',
        addMessageNotificationsFailedAlarm: { Critical: { maxNotificationsFailedCount: 0 } },
      })
      .monitorCustom({
        alarmFriendlyName: 'Schedule',
        humanReadableName: 'Schedule (EventBridge Scheduler)',
        metricGroups: [
          {
            title: 'Failed schedule invocations',
            metrics: [
              {
                metric: props.scheduleGroup.metricTargetErrors({ statistic: 'Sum' }),
                alarmFriendlyName: 'TargetErrors',
                addAlarm: {
                  Warning: {
                    threshold: 0,
                    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
                    additionalDescription:
                      'The planner invocation failed; Scheduler retries, then sends the tick to the schedule DLQ.',
                  },
                },
              },
              {
                metric: props.scheduleGroup.metricDropped({ statistic: 'Sum' }),
                alarmFriendlyName: 'InvocationsDropped',
                addAlarm: {
                  Critical: {
                    threshold: 0,
                    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
                    additionalDescription:
                      'Scheduler gave up on a tick (retries or event age exhausted) and no DLQ took it.',
                  },
                },
              },
              {
                metric: props.scheduleGroup.metricFailedToBeSentToDLQ(undefined, {
                  statistic: 'Sum',
                }),
                alarmFriendlyName: 'FailedToBeSentToDLQ',
                addAlarm: {
                  Critical: {
                    threshold: 0,
                    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
                    additionalDescription:
                      'A failed tick could not be written to the schedule DLQ.',
                  },
                },
              },
            ],
          },
        ],
      });

    const stale = props.stalePeriods ?? 4;
    this.addFreshnessAlarm(period, stale);
    this.addChatAlarms(period, stale, queries);
    this.addAwaitingCredentialsAlarm(
      period,
      props.awaitingCredentialsFor ?? Duration.hours(24),
      queries,
    );

    // An alarm that fires while the topic policy or key policy is still being created would
    // fail to publish; CloudFormation cannot see that dependency.
    for (const { alarm } of this.facade.createdAlarms()) alarm.node.addDependency(this.alarmTopic);
  }

  /**
   * A topic policy replaces SNS's default one, so CloudWatch needs its own Allow (and the key's)
   * to deliver alarms: only for this account's alarms named with this stack's prefix.
   */
  private allowAlarmsToPublish(key: IKey): void {
    const stack = Stack.of(this);
    const principal = new ServicePrincipal('cloudwatch.amazonaws.com');
    const conditions = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: `${this.alarmNamePrefix}-*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
    this.alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisStacksAlarmsToPublish',
        principals: [principal],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions,
      }),
    );
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisStacksAlarmsToPublish',
        principals: [principal],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions,
      }),
    );
  }

  /**
   * Freshness of the whole job: over N schedule periods, at least one chat synced or one portal
   * reported awaiting credentials (a first deploy whose secrets are still empty is calm). A job
   * that reports nothing at all has no data: the alarm goes to INSUFFICIENT_DATA, which notifies
   * too — but not right after the first deploy, when it starts there and nothing has run yet.
   */
  private addFreshnessAlarm(period: Duration, stale: number): void {
    const { window, evaluations } = freshnessWindow(period, stale);
    const expression = new MathExpression({
      expression: 'FILL(synced, 0) + FILL(awaiting, 0)',
      usingMetrics: {
        synced: jobMetric(WORKER_METRICS.chatsSynced, window),
        awaiting: jobMetric(AWAITING_CREDENTIALS_METRIC, window),
      },
      period: window,
      label: 'chats synced + portals awaiting credentials',
    });
    this.facade.monitorCustom({
      alarmFriendlyName: 'Freshness',
      humanReadableName: `Job freshness (alarm: nothing synced in ${window.toHumanString()} × ${evaluations})`,
      metricGroups: [
        {
          title: 'Chats synced, all portals',
          metrics: [
            {
              metric: expression,
              alarmFriendlyName: 'Stale',
              addAlarm: {
                Critical: {
                  threshold: 1,
                  comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
                  treatMissingDataOverride: TreatMissingData.MISSING,
                  period: window,
                  evaluationPeriods: evaluations,
                  datapointsToAlarm: evaluations,
                  actionOverride: new SnsAlarmActionStrategy({
                    onAlarmTopic: this.alarmTopic,
                    onOkTopic: this.alarmTopic,
                    onInsufficientDataTopic: this.alarmTopic,
                  }),
                  additionalDescription: `No chat of any portal synced for ${stale} schedule periods (ALARM: the job runs but every chat fails; INSUFFICIENT_DATA after OK: the job stopped reporting). See docs/operations.md.`,
                },
              },
            },
          ],
        },
      ],
    });
  }

  /**
   * Over all portals, what freshness cannot see while other chats keep syncing:
   * - FailingChats: some chat failed in each of N consecutive schedule periods (a chat that can
   *   no longer be read, a malformed answer): a transient failure clears within a period;
   * - HeldChanges: a mass change is held and waits for an operator (`membership-sync release`);
   * - HintMisses: a reconcile read found a change the recent-list hints did not name.
   * The dashboard and the saved queries name the portals and chats.
   */
  private addChatAlarms(
    period: Duration,
    stale: number,
    queries: Readonly<Record<keyof typeof SAVED_QUERIES, string>>,
  ): void {
    const periodSeconds = Math.min(86_400, Math.max(60, Math.ceil(period.toSeconds() / 60) * 60));
    const evaluations =
      periodSeconds < 3600
        ? Math.min(stale, Math.floor(86_400 / periodSeconds))
        : Math.min(stale, 7);
    const atLeastOne = (evaluationPeriods: number, description: string) => ({
      Warning: {
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
        evaluationPeriods,
        datapointsToAlarm: evaluationPeriods,
        additionalDescription: description,
      },
    });
    const every = Duration.seconds(periodSeconds);
    this.facade.monitorCustom({
      alarmFriendlyName: 'Chats',
      humanReadableName: 'Failing chats and held mass changes, all portals',
      metricGroups: [
        {
          title: 'Failed chats, all portals',
          metrics: [
            {
              metric: jobMetric(WORKER_METRICS.chatsFailed, every),
              alarmFriendlyName: 'Failing',
              addAlarm: atLeastOne(
                evaluations,
                `Some chat failed to sync in each of the last ${evaluations} schedule periods. Which portals and chats: the dashboard's "Portals with failing chats" widget, or the saved Logs Insights query ${queries.failingChats} (the Bitrix24 error code is in the worker log). See docs/operations.md.`,
              ),
            },
          ],
        },
        {
          title: 'Held mass changes, all portals',
          metrics: [
            {
              metric: jobMetric(WORKER_METRICS.changesHeld, every),
              alarmFriendlyName: 'Held',
              addAlarm: atLeastOne(
                1,
                `A mass change is held by the breaker. Which portal: the saved Logs Insights query ${queries.heldChanges}; then check it (membership-sync status --table <TableName> --portal ID) and release it (membership-sync release --table <TableName> --portal ID --chat ID) or wait for the chat to recover. See docs/operations.md.`,
              ),
            },
          ],
        },
        {
          title: 'Changes the hints missed, all portals (hinted reads)',
          metrics: [
            {
              metric: jobMetric(WORKER_METRICS.hintMisses, every),
              alarmFriendlyName: 'HintMisses',
              addAlarm: atLeastOne(
                1,
                'A full (reconcile) read of a chat found a membership change the recent-list hints did not name; it reached subscribers up to a reconcile period late (data.detectedBy "reconcile"). Expected for silent paths (announcement chats, the general chat with its auto-messages off, chats the integration user is not in: docs/bitrix24.md). Which portal: the HintMisses metric by portal, or membership-sync status --table <TableName> --portal ID (its hint recall); if it repeats for ordinary chats, set that portal\'s reads.mode to "full". See docs/scale.md.',
              ),
            },
          ],
        },
      ],
    });
  }

  /**
   * Awaiting credentials is calm at first (a fresh deploy whose secrets are still being written)
   * and counts as fresh for the Stale alarm, so a forgotten or misnamed secret needs an alarm of
   * its own: some portal reported awaiting in every period of `after` (hourly periods, or the
   * schedule's when longer, so that every period has a tick).
   */
  private addAwaitingCredentialsAlarm(
    schedulePeriod: Duration,
    after: Duration,
    queries: Readonly<Record<keyof typeof SAVED_QUERIES, string>>,
  ): void {
    const periodSeconds = Math.max(3600, Math.ceil(schedulePeriod.toSeconds() / 3600) * 3600);
    const evaluations = Math.max(
      1,
      Math.min(
        Math.floor((7 * 86_400) / periodSeconds),
        Math.ceil(after.toSeconds() / periodSeconds),
      ),
    );
    this.facade.monitorCustom({
      alarmFriendlyName: 'Credentials',
      humanReadableName: 'Portals awaiting credentials, all portals',
      metricGroups: [
        {
          title: 'Portals awaiting credentials',
          metrics: [
            {
              metric: jobMetric(AWAITING_CREDENTIALS_METRIC, Duration.seconds(periodSeconds)),
              alarmFriendlyName: 'AwaitingLong',
              addAlarm: {
                Warning: {
                  threshold: 1,
                  comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                  treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
                  evaluationPeriods: evaluations,
                  datapointsToAlarm: evaluations,
                  additionalDescription: `Some portal has been awaiting credentials (its secret does not exist under its name, or holds the placeholder) for ${after.toHumanString()}: it is not synced. Which portal: the saved Logs Insights query ${queries.awaitingCredentials}, or membership-sync status --config FILE --secrets. See docs/operations.md, "Awaiting credentials".`,
                },
              },
            },
          ],
        },
      ],
    });
  }

  /** Saved Logs Insights queries that name the portals behind the job-wide alarms. */
  private addSavedQueries(
    workerLogs: ILogGroup,
    plannerLogs: ILogGroup,
  ): Record<keyof typeof SAVED_QUERIES, string> {
    const prefix = `${Stack.of(this).stackName}/`;
    const define = (id: string, name: string, logGroups: ILogGroup[], query: QueryString) => {
      new QueryDefinition(this, id, {
        queryDefinitionName: `${prefix}${name}`,
        logGroups,
        queryString: query,
      });
      return `${prefix}${name}`;
    };
    return {
      failingChats: define(
        'FailingChatsQuery',
        SAVED_QUERIES.failingChats,
        [workerLogs],
        FAILING_CHATS_QUERY,
      ),
      heldChanges: define(
        'HeldChangesQuery',
        SAVED_QUERIES.heldChanges,
        [workerLogs],
        HELD_CHANGES_QUERY,
      ),
      awaitingCredentials: define(
        'AwaitingCredentialsQuery',
        SAVED_QUERIES.awaitingCredentials,
        [workerLogs, plannerLogs],
        AWAITING_CREDENTIALS_QUERY,
      ),
    };
  }

  /** Job-level graphs over the all-portals metrics. */
  private addJobWidgets(period: Duration): void {
    const every = Duration.seconds(Math.max(60, period.toSeconds()));
    const m = (name: string, label: string, statistic = 'Sum') =>
      jobMetric(name, every, statistic).with({ label });
    const graph = (title: string, metrics: Metric[]) =>
      new GraphWidget({ title, left: metrics, width: 8, height: 6 });

    this.facade.addWidget(
      graph('Chats synced / failed, portals awaiting credentials', [
        m(WORKER_METRICS.chatsSynced, 'synced'),
        m(WORKER_METRICS.chatsFailed, 'failed'),
        m(AWAITING_CREDENTIALS_METRIC, 'awaiting credentials'),
      ]),
    );
    this.facade.addWidget(
      graph('Members read / joins / leaves / held', [
        m(WORKER_METRICS.membersRead, 'read'),
        m(WORKER_METRICS.membersJoined, 'joined'),
        m(WORKER_METRICS.membersLeft, 'left'),
        m(WORKER_METRICS.changesHeld, 'held'),
      ]),
    );
    this.facade.addWidget(
      graph('Bitrix24 requests and chat sync duration (p90)', [
        m(WORKER_METRICS.bitrix24Requests, 'requests'),
        m(WORKER_METRICS.rateLimited, 'rate-limited (503)'),
        m(WORKER_METRICS.chatSyncDuration, 'duration p90', 'p90'),
      ]),
    );
  }

  /**
   * Which portals: the top 20 per metric (Metrics Insights over the per-portal series, GROUP BY
   * portal), and the saved queries' tables over the logs.
   */
  private addPortalWidgets(period: Duration, workerLogs: ILogGroup, plannerLogs: ILogGroup): void {
    const every = Duration.seconds(Math.max(60, period.toSeconds()));
    const top = (metricName: string, label: string) =>
      new MathExpression({
        expression: `SELECT SUM(${metricName}) FROM SCHEMA("${METRICS_NAMESPACE}", portal, service) GROUP BY portal ORDER BY SUM() DESC LIMIT 20`,
        usingMetrics: {},
        label,
        period: every,
      });
    this.facade.addWidget(
      new GraphWidget({
        title: 'Portals with failing chats (top 20)',
        left: [top(WORKER_METRICS.chatsFailed, 'failed chats')],
        width: 8,
        height: 6,
      }),
    );
    this.facade.addWidget(
      new GraphWidget({
        title: 'Portals with held changes (top 20)',
        left: [top(WORKER_METRICS.changesHeld, 'held')],
        width: 8,
        height: 6,
      }),
    );
    this.facade.addWidget(
      new GraphWidget({
        title: 'Portals awaiting credentials (top 20)',
        left: [top(AWAITING_CREDENTIALS_METRIC, 'skipped')],
        width: 8,
        height: 6,
      }),
    );
    this.facade.addWidget(
      new LogQueryWidget({
        title: 'Failing chats by portal (worker log)',
        logGroupNames: [workerLogs.logGroupName],
        queryString: FAILING_CHATS_QUERY.toString(),
        width: 12,
        height: 6,
      }),
    );
    this.facade.addWidget(
      new LogQueryWidget({
        title: 'Portals awaiting credentials (logs)',
        logGroupNames: [workerLogs.logGroupName, plannerLogs.logGroupName],
        queryString: AWAITING_CREDENTIALS_QUERY.toString(),
        width: 12,
        height: 6,
      }),
    );
  }
}

/** A worker metric summed over all portals (the `service`-only dimension set). */
function jobMetric(metricName: string, period: Duration, statistic = 'Sum'): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic,
    period,
  });
}

// Over the worker's `work item synced` and the `… awaiting credentials …` log lines
// (functions/app/lambda-worker.ts, lambda-planner.ts).
const FAILING_CHATS_QUERY = new QueryString({
  filterStatements: ['message = "work item synced" and totals.failed > 0'],
  statsStatements: [
    'sum(totals.failed) as failedChats, latest(problems.0.chatId) as lastChat, latest(problems.0.code) as lastCode, latest(@timestamp) as lastSeen by portalId',
  ],
  sort: 'failedChats desc',
  limit: 100,
});
const HELD_CHANGES_QUERY = new QueryString({
  filterStatements: ['message = "work item synced" and totals.held > 0'],
  statsStatements: ['sum(totals.held) as heldChats, latest(@timestamp) as lastSeen by portalId'],
  sort: 'heldChats desc',
  limit: 100,
});
const AWAITING_CREDENTIALS_QUERY = new QueryString({
  filterStatements: ['message like /awaiting credentials/'],
  statsStatements: [
    'latest(secretId) as secret, latest(reason) as why, latest(@timestamp) as lastSeen by portalId',
  ],
  sort: 'portalId asc',
  limit: 1000,
});

/**
 * N schedule periods as one alarm period when that fits CloudWatch's limit (whole minutes, at
 * most a day); longer windows become N' consecutive empty days (evaluation range ≤ 7 days).
 */
export function freshnessWindow(
  period: Duration,
  stale: number,
): { window: Duration; evaluations: number } {
  const seconds = Math.max(60, Math.ceil((period.toSeconds() * stale) / 60) * 60);
  if (seconds <= 86_400) return { window: Duration.seconds(seconds), evaluations: 1 };
  return { window: Duration.days(1), evaluations: Math.min(7, Math.ceil(seconds / 86_400)) };
}
