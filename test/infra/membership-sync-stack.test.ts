import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { snapshotTableDefinition } from '../../functions/adapters/snapshot-table.js';
import { ARCHIVE_DATA_PREFIX, ARCHIVE_ERROR_PREFIX } from '../../infra/audit-archive.js';
import { freshnessWindow } from '../../infra/monitoring.js';
import { BUNDLED_CONFIG_PATH } from '../../infra/sync-function.js';
import { maxEventAgeFor, schedulePeriod } from '../../infra/sync-schedule.js';
import { configInput, IMPORTED_SECRET_ARN, synth } from './support.js';

type Dimension = { Name: string; Value: unknown };
type AlarmProperties = {
  Namespace?: string;
  MetricName?: string;
  Dimensions?: Dimension[];
  Period?: number;
  Statistic?: string;
  Metrics?: {
    MetricStat: {
      Metric: { Namespace: string; MetricName: string; Dimensions: Dimension[] };
      Period: number;
      Stat: string;
    };
  }[];
};
type Resource = { Properties: Record<string, unknown> } & Record<string, unknown>;

function only(resources: Record<string, Resource>): [string, Resource] {
  const entries = Object.entries(resources);
  expect(entries).toHaveLength(1);
  return entries[0] as [string, Resource];
}

function functionByDescription(text: string): Resource {
  const { template } = synth();
  return only(
    template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp(text) },
    }) as Record<string, Resource>,
  )[1];
}

const ref = (element: unknown) => ({
  Ref: Stack.of(element as CfnElement).getLogicalId(element as CfnElement),
});

describe('schedule', () => {
  it('invokes the planner with the configured expression, time zone, retries and a DLQ', () => {
    const { template, stack } = synth();
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0/10 * * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [stack.getLogicalId(plannerCfn(stack)), 'Arn'] },
        // A tick older than its period (10 minutes) is superseded by the next one.
        RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 600 },
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ScheduleDeadLetterQueue'), 'Arn'] },
        },
        Input: Match.serializedJson(
          Match.objectLike({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
        ),
      },
    });
  });

  it('retries a failed (asynchronous) planner run, then parks the tick in the schedule DLQ', () => {
    const { template, stack } = synth();
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: stack.getLogicalId(plannerCfn(stack)) },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 600,
      DestinationConfig: {
        OnFailure: {
          Destination: {
            'Fn::GetAtt': [Match.stringLikeRegexp('^ScheduleDeadLetterQueue'), 'Arn'],
          },
        },
      },
    });
  });

  it('uses a standard (non-FIFO) encrypted DLQ, as Scheduler requires', () => {
    const { template } = synth();
    const [, dlq] = only(
      template.findResources('AWS::SQS::Queue', {
        Properties: { FifoQueue: Match.absent(), SqsManagedSseEnabled: true },
      }) as Record<string, Resource>,
    );
    expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('lets only this account’s schedules assume the invoke role', () => {
    synth().template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
          }),
        ],
      },
    });
  });
});

describe('schedule period (event age, freshness window)', () => {
  it.each([
    ['rate(1 minute)', 60, 60],
    ['rate(15 minutes)', 900, 900],
    ['rate(2 hours)', 7200, 7200],
    ['rate(3 days)', 3 * 86400, 86400],
    ['cron(0/10 * * * ? *)', 600, 600],
    ['cron(*/5 * * * ? *)', 300, 300],
    ['cron(7 * * * ? *)', 3600, 3600],
    ['cron(0 2 * * ? *)', 86400, 86400],
    ['cron(0 8 ? * MON-FRI *)', 86400, 86400],
  ])('%s: period %i s, maximum event age %i s', (expression, period, age) => {
    expect(schedulePeriod(expression).toSeconds()).toBe(period);
    expect(maxEventAgeFor(expression).toSeconds()).toBe(age);
  });
});

describe('work queue', () => {
  it('is FIFO without content-based dedup, redrives to a FIFO DLQ, and hides a message for ≥ 6× the worker timeout', () => {
    const { template } = synth();
    const worker = functionByDescription('^Reads a work item');
    const workerTimeout = worker.Properties.Timeout as number;
    expect(workerTimeout).toBe(300);

    const [, queue] = only(
      template.findResources('AWS::SQS::Queue', {
        Properties: { FifoQueue: true, RedrivePolicy: Match.anyValue() },
      }) as Record<string, Resource>,
    );
    expect(queue.Properties.ContentBasedDeduplication).toBe(false);
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * workerTimeout);
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    expect(queue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [expect.stringMatching(/^WorkDeadLetterQueue/), 'Arn'] },
      maxReceiveCount: 5,
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      RedrivePolicy: Match.absent(),
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('denies non-TLS access to every queue', () => {
    const { template } = synth();
    const policies = template.findResources('AWS::SQS::QueuePolicy', {
      Properties: {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      },
    });
    expect(Object.keys(policies)).toHaveLength(3);
  });

  it('feeds the worker one item at a time with partial batch failures and bounded concurrency', () => {
    const { template, stack } = synth();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: stack.getLogicalId(workerCfn(stack)) },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkQueue'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });
});

describe('snapshot table', () => {
  it('has the adapter’s key schema, GSI and TTL, on demand, with PITR, retained', () => {
    const { template } = synth();
    const d = snapshotTableDefinition;
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: d.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: d.sortKey.name, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: d.portalIndex.partitionKey.name, AttributeType: 'S' },
          { AttributeName: d.portalIndex.sortKey.name, AttributeType: 'N' },
        ]),
        GlobalSecondaryIndexes: [
          {
            IndexName: d.portalIndex.indexName,
            KeySchema: [
              { AttributeName: d.portalIndex.partitionKey.name, KeyType: 'HASH' },
              { AttributeName: d.portalIndex.sortKey.name, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
        TimeToLiveSpecification: { AttributeName: d.timeToLiveAttribute, Enabled: true },
        SSESpecification: Match.objectLike({ SSEEnabled: true }),
        Replicas: [
          Match.objectLike({
            Region: 'eu-central-1',
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      }),
    });
  });
});

describe('event topic', () => {
  it('is a standard topic encrypted with a rotating customer-managed key by default', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'Bitrix24 chat membership changes',
      FifoTopic: Match.absent(),
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MessagesKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('is FIFO, encrypted, deduplicated by the publisher and throttled per group when configured', () => {
    const { template } = synth(configInput({ topic: { kind: 'fifo' } }));
    template.hasResourceProperties('AWS::SNS::Topic', {
      FifoTopic: true,
      ContentBasedDeduplication: false,
      FifoThroughputScope: 'MessageGroup',
      TopicName: Match.stringLikeRegexp('\\.fifo$'),
      KmsMasterKeyId: Match.anyValue(),
      ArchivePolicy: Match.absent(),
    });
  });

  it('denies publishing without TLS', () => {
    synth().template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sns:Publish',
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('grants sns:Publish to the worker on the event topic only, plus the topic key', () => {
    const { template, stack } = synth();
    const statements = policyStatementsOf(template, stack, workerCfn(stack));
    const publish = statements.filter((s) => actions(s).includes('sns:Publish'));
    expect(publish).toEqual([expect.objectContaining({ Resource: ref(eventTopicCfn(stack)) })]);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^MessagesKey/), 'Arn'] },
      }),
    );
    const planner = policyStatementsOf(template, stack, plannerCfn(stack));
    expect(planner.flatMap(actions)).not.toContain('sns:Publish');
  });
});

describe('functions', () => {
  it.each([
    ['^Reads a work item', 1024, 300],
    ['^Splits the configured', 256, 60],
  ])(
    '%s runs on nodejs22.x, arm64, traced, with %i MB and %i s',
    (description, memory, timeout) => {
      const fn = functionByDescription(description);
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: memory,
        Timeout: timeout,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/Logs/) } },
      });
    },
  );

  it('gives the worker its environment contract', () => {
    const { stack } = synth();
    const env = envOf(functionByDescription('^Reads a work item'));
    expect(env.CONFIG_PATH).toBe(BUNDLED_CONFIG_PATH);
    expect(env.TABLE_NAME).toEqual(
      ref(stack.node.findAll().find((c) => c.node.path.endsWith('Snapshots/Table/Resource'))),
    );
    expect(env.TOPIC_ARN).toEqual(ref(eventTopicCfn(stack)));
    expect(env.WORK_QUEUE_URL).toEqual(
      ref(stack.node.findAll().find((c) => c.node.path.endsWith('Work/Queue/Resource'))),
    );
    expect(env.POWERTOOLS_SERVICE_NAME).toBe('membership-sync');
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe('MembershipSync');
    expect(secretArnsOf(stack, env.SECRET_ARNS)).toEqual({
      acme: { Ref: expect.stringMatching(/^SecretsPortalacme/) },
      globex: IMPORTED_SECRET_ARN,
    });
  });

  it('gives the planner the queue URL, the secrets for discovery and the table of leases', () => {
    const { stack } = synth();
    const env = envOf(functionByDescription('^Splits the configured'));
    expect(env.CONFIG_PATH).toBe(BUNDLED_CONFIG_PATH);
    expect(env.WORK_QUEUE_URL).toEqual(
      ref(stack.node.findAll().find((c) => c.node.path.endsWith('Work/Queue/Resource'))),
    );
    expect(Object.keys(secretArnsOf(stack, env.SECRET_ARNS))).toEqual(['acme', 'globex']);
    expect(env.TABLE_NAME).toEqual(
      ref(stack.node.findAll().find((c) => c.node.path.endsWith('Snapshots/Table/Resource'))),
    );
  });

  it('lets the planner send to the work queue and take OAuth refresh leases, but not touch snapshots', () => {
    const { template, stack } = synth();
    const planner = policyStatementsOf(template, stack, plannerCfn(stack));
    expect(planner.flatMap(actions)).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    const table = planner.filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
    expect(table).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*#oauth'] } },
      }),
    ]);
  });
});

describe('portal secrets', () => {
  it('creates a secret for {name} with a placeholder and no literal credential, retained', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: {
        Name: 'membership-sync/acme',
        Description: Match.stringLikeRegexp('"acme"'),
        GenerateSecretString: Match.objectLike({
          SecretStringTemplate: Match.serializedJson(Match.objectLike({ type: 'unset' })),
        }),
        SecretString: Match.absent(),
      },
    });
  });

  it('lets the worker shorten the visibility of a failed work item on its own queue only', () => {
    const { template, stack } = synth();
    const queue = stack.node.findAll().find((c) => c.node.path.endsWith('Work/Queue/Resource'));
    const onQueue = policyStatementsOf(template, stack, workerCfn(stack)).filter((s) =>
      JSON.stringify(s.Resource).includes(stack.getLogicalId(queue as never)),
    );
    expect(onQueue.flatMap(actions)).toContain('sqs:ChangeMessageVisibility');
  });

  it.each([
    ['worker', workerCfn],
    ['planner', plannerCfn],
  ])('lets the %s read each secret and write back refreshed OAuth tokens', (_name, fnOf) => {
    const { template, stack } = synth();
    const statements = policyStatementsOf(template, stack, fnOf(stack));
    for (const resource of [
      { Ref: expect.stringMatching(/^SecretsPortalacme/) },
      IMPORTED_SECRET_ARN,
    ]) {
      const granted = statements
        .filter((s) => expect.objectContaining({ Resource: resource }).asymmetricMatch(s))
        .flatMap(actions);
      expect(granted).toEqual(
        expect.arrayContaining([
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ]),
      );
    }
  });
});

describe('audit archive', () => {
  it('is absent unless enabled', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 0);
    template.resourceCountIs('AWS::S3::Bucket', 0);
  });

  it('subscribes Firehose with raw delivery and writes date-partitioned gzip JSON lines', () => {
    const { template, stack } = synth(configInput({ archive: { enabled: true } }));
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'firehose',
      RawMessageDelivery: true,
      TopicArn: ref(eventTopicCfn(stack)),
      SubscriptionRoleArn: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        Prefix: ARCHIVE_DATA_PREFIX,
        ErrorOutputPrefix: ARCHIVE_ERROR_PREFIX,
        CompressionFormat: 'GZIP',
        ProcessingConfiguration: {
          Enabled: true,
          Processors: [{ Type: 'AppendDelimiterToRecord', Parameters: [] }],
        },
      }),
    });
    expect(ARCHIVE_DATA_PREFIX).toBe(
      'events/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/',
    );
  });

  it('keeps the archive in a versioned, retained, private, TLS-only bucket with tiering and access logs', () => {
    const { template } = synth(configInput({ archive: { enabled: true } }));
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: Match.anyValue(),
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'archive/' }),
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({
              Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              Status: 'Enabled',
            }),
          ],
        },
      }),
    });
    const tlsOnly = template.findResources('AWS::S3::BucketPolicy', {
      Properties: {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      },
    });
    expect(Object.keys(tlsOnly)).toHaveLength(2);
  });

  it('with a FIFO topic uses the topic’s own 365-day archive instead of Firehose, and says so', () => {
    const { template, stack } = synth(
      configInput({ topic: { kind: 'fifo' }, archive: { enabled: true } }),
    );
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 0);
    template.hasResourceProperties('AWS::SNS::Topic', {
      FifoTopic: true,
      ArchivePolicy: { MessageRetentionPeriod: 365 },
    });
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp('SNS FIFO topics cannot deliver to Firehose'),
    );
  });
});

describe('alarms', () => {
  const alarms = () =>
    Object.values(synth().template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
  const metricOf = (alarm: Resource) => {
    const p = alarm.Properties as AlarmProperties;
    const stat = p.Metrics?.[0]?.MetricStat;
    return !stat
      ? {
          namespace: p.Namespace,
          name: p.MetricName,
          dimensions: p.Dimensions,
          period: p.Period,
          stat: p.Statistic,
        }
      : {
          namespace: stat.Metric.Namespace,
          name: stat.Metric.MetricName,
          dimensions: stat.Metric.Dimensions,
          period: stat.Period,
          stat: stat.Stat,
        };
  };
  const find = (namespace: string, name: string, dimension?: (d: Dimension[]) => boolean) =>
    alarms().filter((a) => {
      const m = metricOf(a);
      return (
        m.namespace === namespace &&
        m.name === name &&
        (dimension ? dimension(m.dimensions ?? []) : true)
      );
    });
  const hasDim = (name: string, value: unknown) => (dims: Dimension[]) =>
    dims.some((d) => d.Name === name && JSON.stringify(d.Value) === JSON.stringify(value));

  it('fire on the first bad datapoint and notify the encrypted alarm topic', () => {
    const { template, stack } = synth();
    const alarmTopic = stack.node
      .findAll()
      .find((c) => c.node.path.endsWith('Monitoring/AlarmTopic/Resource'));
    for (const alarm of alarms()) {
      expect(alarm.Properties.AlarmActions).toEqual([ref(alarmTopic)]);
      // Failing chats are judged over consecutive periods: a transient failure clears in one.
      if (metricOf(alarm).name !== 'ChatsFailed')
        expect(alarm.Properties.EvaluationPeriods).toBe(1);
    }
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'Bitrix24 membership sync alarms',
      KmsMasterKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('cover planner and worker errors', () => {
    const { stack } = synth();
    for (const fn of [plannerCfn(stack), workerCfn(stack)]) {
      const [alarm] = find('AWS/Lambda', 'Errors', hasDim('FunctionName', ref(fn)));
      expect(alarm?.Properties).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('cover both dead-letter queues', () => {
    const dlqAlarms = find('AWS/SQS', 'ApproximateNumberOfMessagesVisible');
    const queues = dlqAlarms.map((a) => JSON.stringify(metricOf(a).dimensions));
    expect(queues).toEqual([
      expect.stringMatching(/WorkDeadLetterQueue/),
      expect.stringMatching(/ScheduleDeadLetterQueue/),
    ]);
    for (const alarm of dlqAlarms) expect(alarm.Properties.Threshold).toBe(0);
  });

  it('cover failed and dropped schedule invocations', () => {
    for (const metric of [
      'TargetErrorCount',
      'InvocationDroppedCount',
      'InvocationsFailedToBeSentToDeadLetterCount',
    ]) {
      const { stack } = synth();
      const group = stack.resolve(
        (stack.node.findChild('Schedule').node.findChild('Group') as ScheduleGroup)
          .scheduleGroupName,
      );
      const [alarm] = find('AWS/Scheduler', metric, hasDim('ScheduleGroup', group));
      expect(alarm, metric).toBeDefined();
      expect(alarm?.Properties.Threshold).toBe(0);
    }
  });

  it('cover failed SNS deliveries', () => {
    const { stack } = synth();
    const [alarm] = find(
      'AWS/SNS',
      'NumberOfNotificationsFailed',
      hasDim('TopicName', {
        'Fn::GetAtt': [stack.getLogicalId(eventTopicCfn(stack)), 'TopicName'],
      }),
    );
    expect(alarm?.Properties.Threshold).toBe(0);
  });

  it('cover freshness per portal: no ChatsSynced for 4 periods, missing data breaching', () => {
    for (const portal of ['acme', 'globex']) {
      const [alarm] = find('MembershipSync', 'ChatsSynced', hasDim('portal', portal));
      expect(alarm?.Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        EvaluationPeriods: 1,
      });
      const m = metricOf(alarm as Resource);
      expect(m).toMatchObject({ stat: 'Sum', period: 4 * 600 });
      expect(m.dimensions).toContainEqual({ Name: 'service', Value: 'membership-sync' });
    }
  });

  it('warn per portal when some chat failed in 4 consecutive periods, and while a change is held', () => {
    for (const portal of ['acme', 'globex']) {
      const [failing] = find('MembershipSync', 'ChatsFailed', hasDim('portal', portal));
      expect(failing?.Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        EvaluationPeriods: 4,
        DatapointsToAlarm: 4,
      });
      expect(metricOf(failing as Resource)).toMatchObject({ stat: 'Sum', period: 600 });
      const [held] = find('MembershipSync', 'ChangesHeld', hasDim('portal', portal));
      expect(held?.Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
      });
      expect(String(held?.Properties.AlarmDescription)).toContain('membership-sync release');
    }
  });

  it.each([
    ['rate(15 minutes)', 3600, 1],
    ['rate(6 hours)', 86400, 1],
    ['cron(0 2 * * ? *)', 86400, 4],
    ['rate(3 days)', 86400, 7],
  ])(
    'freshness for %s: %i s × %i consecutive empty periods',
    (expression, seconds, evaluations) => {
      const { window, evaluations: n } = freshnessWindow(schedulePeriod(expression), 4);
      expect([window.toSeconds(), n]).toEqual([seconds, evaluations]);
    },
  );

  it('come with a dashboard of the job’s metrics and queues', () => {
    const { template } = synth();
    const [, dashboard] = only(
      template.findResources('AWS::CloudWatch::Dashboard') as Record<string, Resource>,
    );
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const text of [
      'ChatsSynced',
      'MembersJoined',
      'MembersLeft',
      'ChangesHeld',
      'ChatsFailed',
      'Bitrix24Requests',
      'RateLimited',
      'ChatSyncDuration',
      'ApproximateNumberOfMessagesVisible',
      'Duration',
    ]) {
      expect(body).toContain(text);
    }
  });
});

describe('outputs', () => {
  it('name the topic, table, dashboard, alarm topic and each portal’s secret', () => {
    const outputs = synth().template.findOutputs('*');
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        'TopicArn',
        'TableName',
        'DashboardUrl',
        'AlarmTopicArn',
        'SecretArnacme',
        'SecretArnglobex',
      ]),
    );
    expect(outputs.SecretArnglobex?.Value).toBe(IMPORTED_SECRET_ARN);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['default', configInput()],
    ['archive on', configInput({ archive: { enabled: true } })],
    ['FIFO topic', configInput({ topic: { kind: 'fifo' } })],
    ['FIFO topic + archive', configInput({ topic: { kind: 'fifo' }, archive: { enabled: true } })],
  ])('reports no unacknowledged finding (%s)', (_name, input) => {
    const { stack } = synth(input);
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(
      report.violations.map(
        (v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });
});

// --- helpers -------------------------------------------------------------------------------

function cfnAt(stack: Stack, suffix: string): CfnElement {
  const found = stack.node.findAll().find((c) => c.node.path.endsWith(suffix));
  if (!found) throw new Error(`no construct at …${suffix}`);
  return found as CfnElement;
}
const workerCfn = (stack: Stack) => cfnAt(stack, '/Worker/Resource');
const plannerCfn = (stack: Stack) => cfnAt(stack, '/Planner/Resource');
const eventTopicCfn = (stack: Stack) => cfnAt(stack, '/Events/Topic/Resource');

function envOf(fn: Resource): Record<string, unknown> {
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

function secretArnsOf(stack: Stack, value: unknown): Record<string, unknown> {
  // Stack.toJsonString with tokens synthesizes as Fn::Join; resolve it back to a map.
  const joined = value as { 'Fn::Join': [string, unknown[]] };
  const parts = joined['Fn::Join'][1];
  const map: Record<string, unknown> = {};
  let key: string | undefined;
  for (const part of parts) {
    if (typeof part === 'string') {
      for (const m of part.matchAll(/"([a-z0-9-]+)":"?([^"]*)/g)) {
        key = m[1];
        if (m[2] && key) map[key] = m[2];
      }
    } else if (key) {
      map[key] = part;
    }
  }
  expect(stack.resolve(value)).toBeDefined();
  return map;
}

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

function policyStatementsOf(
  template: ReturnType<typeof synth>['template'],
  stack: Stack,
  fn: CfnElement,
): Statement[] {
  const role = (
    template.toJSON().Resources[stack.getLogicalId(fn)].Properties.Role as {
      'Fn::GetAtt': [string];
    }
  )['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: role }] },
  }) as Record<string, Resource>;
  return Object.values(policies).flatMap(
    (p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
  );
}
