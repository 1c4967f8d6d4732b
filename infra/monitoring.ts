import { Aws, Duration, Stack } from 'aws-cdk-lib';
import {
  ComparisonOperator,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  DefaultDashboardFactory,
  MonitoringFacade,
  SnsAlarmActionStrategy,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME, WORKER_METRICS } from '../functions/app/metric-names.js';

export interface SyncMonitoringProps {
  readonly planner: IFunction;
  readonly worker: IFunction;
  readonly workQueue: IQueue;
  readonly workDeadLetterQueue: IQueue;
  readonly scheduleGroup: IScheduleGroup;
  readonly scheduleDeadLetterQueue: IQueue;
  readonly topic: ITopic;
  readonly portalIds: readonly string[];
  /** Interval between schedule ticks. */
  readonly schedulePeriod: Duration;
  /**
   * Alarm when a portal has had no successfully synced chat for this many schedule periods.
   * @default 4
   */
  readonly stalePeriods?: number;
  /** Key for the alarm topic; CloudWatch is allowed to use it (AWS-managed keys cannot be). */
  readonly alarmTopicKey: IKey;
}

/**
 * Alarms on every failure path (function errors, both DLQs, dropped or failed schedule
 * invocations, failed SNS deliveries, stale portals) to an encrypted alarm topic, and one
 * dashboard of the job at a glance.
 */
export class SyncMonitoring extends Construct {
  readonly alarmTopic: Topic;
  readonly facade: MonitoringFacade;
  readonly dashboardName: string;
  readonly dashboardUrl: string;

  constructor(scope: Construct, id: string, props: SyncMonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Bitrix24 membership sync alarms',
      masterKey: props.alarmTopicKey,
      enforceSSL: true,
    });
    // CloudWatch publishes alarm notifications itself, so the key policy must let it encrypt.
    props.alarmTopicKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );

    this.dashboardName = `${stack.stackName}-membership-sync`;
    this.dashboardUrl = `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${this.dashboardName}`;

    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: stack.stackName,
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
    this.facade.addLargeHeader('Bitrix24 chat membership sync');
    this.addJobWidgets(period);

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

    this.addFreshnessAlarms(props.portalIds, period, props.stalePeriods ?? 4);
    this.addChatAlarms(props.portalIds, period, props.stalePeriods ?? 4);
  }

  /**
   * Freshness: for each portal, the Sum of `ChatsSynced` over N schedule periods must be ≥ 1.
   * Missing data is breaching: a portal that stopped syncing emits nothing at all.
   */
  private addFreshnessAlarms(portalIds: readonly string[], period: Duration, stale: number): void {
    const { window, evaluations } = freshnessWindow(period, stale);
    this.facade.monitorCustom({
      alarmFriendlyName: 'Freshness',
      humanReadableName: `Chats synced per portal (alarm: none in ${window.toHumanString()} × ${evaluations})`,
      metricGroups: [
        {
          title: 'Chats synced per portal',
          metrics: portalIds.map((portal) => ({
            metric: new Metric({
              namespace: METRICS_NAMESPACE,
              metricName: WORKER_METRICS.chatsSynced,
              // `service` is the dimension Powertools adds to every metric.
              dimensionsMap: { service: SERVICE_NAME, portal },
              statistic: 'Sum',
              period: window,
              label: portal,
            }),
            alarmFriendlyName: `Stale-${portal}`,
            addAlarm: {
              Critical: {
                threshold: 1,
                comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
                treatMissingDataOverride: TreatMissingData.BREACHING,
                period: window,
                evaluationPeriods: evaluations,
                datapointsToAlarm: evaluations,
                additionalDescription: `Portal "${portal}" has had no successfully synced chat for ${stale} schedule periods.`,
              },
            },
          })),
        },
      ],
    });
  }

  /**
   * Per portal, what freshness cannot see while the portal's other chats keep syncing:
   * - FailingChats: some chat failed in each of N consecutive schedule periods (a chat that can
   *   no longer be read, a malformed answer): a transient failure clears within a period;
   * - HeldChanges: a mass change is held and waits for an operator (`membership-sync release`).
   * Missing data is fine here: a portal that stopped syncing is the freshness alarm's case.
   */
  private addChatAlarms(portalIds: readonly string[], period: Duration, stale: number): void {
    const periodSeconds = Math.min(86_400, Math.max(60, Math.ceil(period.toSeconds() / 60) * 60));
    const evaluations =
      periodSeconds < 3600
        ? Math.min(stale, Math.floor(86_400 / periodSeconds))
        : Math.min(stale, 7);
    const metric = (metricName: string, portal: string) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAME, portal },
        statistic: 'Sum',
        period: Duration.seconds(periodSeconds),
        label: portal,
      });
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
    this.facade.monitorCustom({
      alarmFriendlyName: 'Chats',
      humanReadableName: 'Failing chats and held mass changes per portal',
      metricGroups: [
        {
          title: 'Failed chats per portal',
          metrics: portalIds.map((portal) => ({
            metric: metric(WORKER_METRICS.chatsFailed, portal),
            alarmFriendlyName: `Failing-${portal}`,
            addAlarm: atLeastOne(
              evaluations,
              `Some chat of portal "${portal}" failed to sync in each of the last ${evaluations} schedule periods; the worker's log names the chat and the Bitrix24 error code.`,
            ),
          })),
        },
        {
          title: 'Held mass changes per portal',
          metrics: portalIds.map((portal) => ({
            metric: metric(WORKER_METRICS.changesHeld, portal),
            alarmFriendlyName: `Held-${portal}`,
            addAlarm: atLeastOne(
              1,
              `A mass change in a chat of portal "${portal}" is held by the breaker: check it (membership-sync status --table <stack output TableName> --portal ${portal}), then release it (membership-sync release --table <TableName> --portal ${portal} --chat ID) or wait for the chat to recover.`,
            ),
          })),
        },
      ],
    });
  }

  /** Job-level graphs over the worker's EMF metrics, one line per portal (SEARCH). */
  private addJobWidgets(period: Duration): void {
    const seconds = Math.max(60, period.toSeconds());
    const search = (metric: string, stat: string, label: string) =>
      new MathExpression({
        expression: `SEARCH('Namespace="${METRICS_NAMESPACE}" MetricName="${metric}"', '${stat}', ${seconds})`,
        usingMetrics: {},
        label,
        period: Duration.seconds(seconds),
      });
    const graph = (title: string, metrics: MathExpression[]) =>
      new GraphWidget({ title, left: metrics, width: 8, height: 6 });

    this.facade.addWidget(
      graph('Chats synced / failed', [
        search(WORKER_METRICS.chatsSynced, 'Sum', 'synced'),
        search(WORKER_METRICS.chatsFailed, 'Sum', 'failed'),
      ]),
    );
    this.facade.addWidget(
      graph('Members read / joins / leaves / held', [
        search(WORKER_METRICS.membersRead, 'Sum', 'read'),
        search(WORKER_METRICS.membersJoined, 'Sum', 'joined'),
        search(WORKER_METRICS.membersLeft, 'Sum', 'left'),
        search(WORKER_METRICS.changesHeld, 'Sum', 'held'),
      ]),
    );
    this.facade.addWidget(
      graph('Bitrix24 requests and chat sync duration (p90)', [
        search(WORKER_METRICS.bitrix24Requests, 'Sum', 'requests'),
        search(WORKER_METRICS.rateLimited, 'Sum', 'rate-limited (503)'),
        search(WORKER_METRICS.chatSyncDuration, 'p90', 'duration p90'),
      ]),
    );
  }
}

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
