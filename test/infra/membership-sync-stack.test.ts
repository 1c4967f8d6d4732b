import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { snapshotTableDefinition } from '../../functions/adapters/snapshot-table.js';
import {
  plannerEnvironmentSchema,
  workerEnvironmentSchema,
} from '../../functions/app/environment.js';
import { ARCHIVE_DATA_PREFIX, ARCHIVE_ERROR_PREFIX } from '../../infra/audit-archive.js';
import { freshnessWindow } from '../../infra/monitoring.js';
import { CREDENTIALS_TAG_KEY } from '../../infra/portal-secrets.js';
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
    expect(Object.keys(env).sort()).toEqual([
      'CONFIG_PATH',
      'NODE_OPTIONS',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
      'POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS',
      'TABLE_NAME',
      'TOPIC_ARN',
      'WORK_QUEUE_URL',
    ]);
  });

  it.each([
    ['^Reads a work item', workerEnvironmentSchema],
    ['^Splits the configured', plannerEnvironmentSchema],
  ])('%s gets every variable its handler schema reads', (description, schema) => {
    const env = envOf(functionByDescription(description));
    expect(Object.keys(env)).toEqual(expect.arrayContaining(Object.keys(schema.shape)));
  });

  it.each(['^Reads a work item', '^Splits the configured'])(
    '%s never lets the Tracer record HTTP requests (their URLs hold webhook codes)',
    (description) => {
      const env = envOf(functionByDescription(description));
      expect(env.POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS).toBe('false');
    },
  );

  it('gives the planner the queue URL and the table (leases, hint state), no secret ARNs (the bundled config names the secrets)', () => {
    const { stack } = synth();
    const env = envOf(functionByDescription('^Splits the configured'));
    expect(env.CONFIG_PATH).toBe(BUNDLED_CONFIG_PATH);
    expect(env.WORK_QUEUE_URL).toEqual(
      ref(stack.node.findAll().find((c) => c.node.path.endsWith('Work/Queue/Resource'))),
    );
    expect(env.TABLE_NAME).toEqual(
      ref(stack.node.findAll().find((c) => c.node.path.endsWith('Snapshots/Table/Resource'))),
    );
    expect(env.SECRET_ARNS).toBeUndefined();
  });

  it('lets the planner send to the work queue, take OAuth refresh leases, keep the portals’ hint state and read snapshots, but not write them', () => {
    const { template, stack } = synth();
    const planner = policyStatementsOf(template, stack, plannerCfn(stack));
    expect(planner.flatMap(actions)).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    const table = planner.filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
    expect(table).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*#portal'] } },
      }),
      // Departed chats: the keys-only index and the heads, read only.
      expect.objectContaining({ Action: ['dynamodb:Query', 'dynamodb:BatchGetItem'] }),
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*#oauth'] } },
      }),
    ]);
    expect(table[1]?.Condition).toBeUndefined();
  });
});

describe('portal secrets', () => {
  const PREFIX_ARN = {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':secretsmanager:eu-central-1:111111111111:secret:membership-sync/*',
      ],
    ],
  };

  it('creates no secret: the operator writes them under the naming convention', () => {
    synth().template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  it('lets the worker shorten the visibility of a failed work item on its own queue only', () => {
    const { template, stack } = synth();
    const queue = stack.node.findAll().find((c) => c.node.path.endsWith('Work/Queue/Resource'));
    const onQueue = policyStatementsOf(template, stack, workerCfn(stack)).filter((s) =>
      JSON.stringify(s.Resource).includes(stack.getLogicalId(queue as never)),
    );
    expect(onQueue.flatMap(actions)).toContain('sqs:ChangeMessageVisibility');
  });

  it('lets the worker read every portal’s secret: the prefix plus each imported ARN, nothing else', () => {
    const { template, stack } = synth();
    const reads = policyStatementsOf(template, stack, workerCfn(stack)).filter((s) =>
      actions(s).some((a) => a.startsWith('secretsmanager:Get')),
    );
    expect(reads).toEqual([
      expect.objectContaining({
        Action: 'secretsmanager:GetSecretValue',
        Resource: [PREFIX_ARN, IMPORTED_SECRET_ARN],
      }),
    ]);
  });

  it('lets the worker write refreshed tokens only into secrets not tagged as webhook secrets', () => {
    const { template, stack } = synth();
    const writes = policyStatementsOf(template, stack, workerCfn(stack)).filter((s) =>
      actions(s).some(
        (a) => a.startsWith('secretsmanager:') && !a.startsWith('secretsmanager:Get'),
      ),
    );
    expect(writes).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        Resource: [PREFIX_ARN, IMPORTED_SECRET_ARN],
        Condition: {
          StringNotEquals: { [`aws:ResourceTag/${CREDENTIALS_TAG_KEY}`]: 'webhook' },
        },
      },
    ]);
  });

  it('lets the planner read and write back refreshed tokens of the portals it calls only (hints, discovery)', () => {
    const secretStatements = (input: ReturnType<typeof configInput>) => {
      const s = synth(input);
      return policyStatementsOf(s.template, s.stack, plannerCfn(s.stack)).filter((st) =>
        actions(st).some((a) => a.startsWith('secretsmanager:')),
      );
    };
    const tokenWrite = (resource: unknown) => ({
      Effect: 'Allow',
      Action: ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
      Resource: resource,
      Condition: { StringNotEquals: { [`aws:ResourceTag/${CREDENTIALS_TAG_KEY}`]: 'webhook' } },
    });
    // acme (explicit chats, full reads) is out of reach; globex (discovery, imported) is not.
    const fullReads = configInput();
    fullReads.portals = fullReads.portals.map((p, i) =>
      i === 0 ? { ...p, reads: { mode: 'full' as const } } : p,
    );
    expect(secretStatements(fullReads)).toEqual([
      expect.objectContaining({
        Action: 'secretsmanager:GetSecretValue',
        Resource: IMPORTED_SECRET_ARN,
      }),
      tokenWrite(IMPORTED_SECRET_ARN),
    ]);
    // Explicit chats and full reads only: no secret grant at all.
    const explicitOnly = configInput();
    explicitOnly.portals = fullReads.portals.slice(0, 1);
    expect(secretStatements(explicitOnly)).toEqual([]);
    // Explicit chats with hinted reads (the default): the planner reads the hints, under the prefix.
    const hinted = configInput();
    hinted.portals = hinted.portals.slice(0, 1);
    expect(secretStatements(hinted)).toEqual([
      expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Resource: PREFIX_ARN }),
      tokenWrite(PREFIX_ARN),
    ]);
    // A discovery portal under the convention: the prefix.
    const conventionDiscovery = configInput();
    conventionDiscovery.portals = [
      { id: 'initech', url: 'https://initech.bitrix24.com', chats: { discover: true } },
    ];
    expect(secretStatements(conventionDiscovery)).toEqual([
      expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Resource: PREFIX_ARN }),
      tokenWrite(PREFIX_ARN),
    ]);
  });

  it('grants a secret named outside the prefix by its name (any suffix), and a partial ARN likewise', () => {
    const input = configInput();
    input.portals = [
      {
        id: 'own',
        url: 'https://own.bitrix24.com',
        secret: { name: 'elsewhere/own' },
        chats: [1],
      },
      {
        id: 'partial',
        url: 'https://partial.bitrix24.com',
        secret: { arn: 'arn:aws:secretsmanager:eu-central-1:111111111111:secret:team/partial' },
        chats: [1],
      },
    ];
    const { template, stack } = synth(input);
    const [read] = policyStatementsOf(template, stack, workerCfn(stack)).filter((s) =>
      actions(s).includes('secretsmanager:GetSecretValue'),
    );
    expect(
      (stack.resolve(read?.Resource) as unknown[]).map((r) => JSON.stringify(r)).sort(),
    ).toEqual([
      JSON.stringify('arn:aws:secretsmanager:eu-central-1:111111111111:secret:team/partial-??????'),
      JSON.stringify({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':secretsmanager:eu-central-1:111111111111:secret:elsewhere/own-??????',
          ],
        ],
      }),
    ]);
  });

  it('lets the worker use only the snapshot-table actions it calls: no deletes (no BatchWriteItem), scans or streams, and the TTL attribute only on shards and leases', () => {
    const { template, stack } = synth();
    const dynamo = policyStatementsOf(template, stack, workerCfn(stack)).filter((s) =>
      actions(s).some((a) => a.startsWith('dynamodb:')),
    );
    expect(dynamo.filter((s) => s.Condition === undefined)).toEqual([]);
    expect(dynamo.flatMap(actions)).not.toContain('dynamodb:BatchWriteItem');
    expect(dynamo).toEqual([
      expect.objectContaining({
        Action: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ],
        Condition: { 'ForAllValues:StringNotEquals': { 'dynamodb:Attributes': ['expiresAt'] } },
      }),
      expect.objectContaining({
        Action: 'dynamodb:UpdateItem',
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*#shards'] },
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'expiresAt'] },
          // AWS's pattern for an attribute-limited UpdateItem: no ALL_OLD/ALL_NEW.
          StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
        },
      }),
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*#oauth'] } },
      }),
    ]);
    // Every DeleteItem is pinned to the leases' partitions.
    for (const s of dynamo.filter((x) => actions(x).includes('dynamodb:DeleteItem'))) {
      expect(JSON.stringify(s.Condition)).toContain('*#oauth');
    }
  });

  it('lets the worker send an unfinished work item back to its own queue to go on later', () => {
    const { template, stack } = synth();
    const queue = stack.node.findAll().find((c) => c.node.path.endsWith('Work/Queue/Resource'));
    const sends = policyStatementsOf(template, stack, workerCfn(stack)).filter((s) =>
      actions(s).includes('sqs:SendMessage'),
    );
    expect(sends).toEqual([
      expect.objectContaining({
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(queue as never), 'Arn'] },
      }),
    ]);
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
      DeletionPolicy: 'RetainExceptOnCreate',
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
              // S3's default skips objects under 128 KB; most archive batches are smaller.
              ObjectSizeGreaterThan: '0',
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              AbortIncompleteMultipartUpload: Match.absent(),
              Status: 'Enabled',
            }),
            // S3 refuses an abort rule next to a size filter: a rule of its own.
            {
              Id: 'abort-incomplete-uploads',
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
              Status: 'Enabled',
            },
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
      // Failing chats are judged over consecutive periods: a transient failure clears in one;
      // awaiting credentials is calm until it has lasted alarms.awaitingCredentialsHours.
      if (!['ChatsFailed', 'AwaitingCredentials'].includes(String(metricOf(alarm).name)))
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

  const ALARM_SOURCE = {
    StringEquals: { 'aws:SourceAccount': '111111111111' },
    ArnLike: {
      'aws:SourceArn': {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':cloudwatch:eu-central-1:111111111111:alarm:MembershipSync-*',
          ],
        ],
      },
    },
  };

  it('reach the alarm topic: CloudWatch may publish to it, for this account’s alarms of this stack only', () => {
    const { template, stack } = synth();
    const alarmTopic = cfnAt(stack, 'Monitoring/AlarmTopic/Resource');
    const [, policy] = only(
      template.findResources('AWS::SNS::TopicPolicy', {
        Properties: { Topics: [ref(alarmTopic)] },
      }) as Record<string, Resource>,
    );
    expect((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toContainEqual(
      {
        Sid: 'AllowThisStacksAlarmsToPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: ref(alarmTopic),
        Condition: ALARM_SOURCE,
      },
    );
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowThisStacksAlarmsToPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: '*',
            Condition: ALARM_SOURCE,
          },
        ]),
      },
    });
    // The condition's pattern must cover every alarm the stack makes.
    for (const alarm of alarms()) {
      expect(String(alarm.Properties.AlarmName)).toMatch(/^MembershipSync-/);
    }
  });

  it('are created after the alarm topic and its policy, so none fires into a topic CloudWatch cannot use yet', () => {
    const { template, stack } = synth();
    const topicPolicy = Object.keys(template.findResources('AWS::SNS::TopicPolicy')).find((id) =>
      id.startsWith('MonitoringAlarmTopicPolicy'),
    );
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.DependsOn).toEqual(
        expect.arrayContaining([
          topicPolicy,
          stack.getLogicalId(cfnAt(stack, 'Monitoring/AlarmTopic/Resource')),
        ]),
      );
    }
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

  const jobWide = [{ Name: 'service', Value: 'membership-sync' }];

  it('cover freshness of the whole job: nothing synced nor awaiting credentials for 4 periods', () => {
    const [alarm] = alarms().filter((a) => String(a.Properties.AlarmName).includes('Freshness'));
    expect(alarm?.Properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      // A job that reports nothing goes to INSUFFICIENT_DATA, which notifies; a new alarm
      // starts there, so the first deploy is silent until the first tick.
      TreatMissingData: 'missing',
      InsufficientDataActions: alarm?.Properties.AlarmActions,
      EvaluationPeriods: 1,
    });
    const metrics = alarm?.Properties.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string; Dimensions: Dimension[] }; Period: number };
    }[];
    expect(metrics.find((m) => m.Expression)?.Expression).toBe(
      'FILL(synced, 0) + FILL(awaiting, 0)',
    );
    const stats = metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat] : []));
    expect(stats.map((m) => m.Metric.MetricName).sort()).toEqual([
      'AwaitingCredentials',
      'ChatsSynced',
    ]);
    for (const stat of stats) {
      expect(stat.Metric.Dimensions).toEqual(jobWide);
      expect(stat.Period).toBe(4 * 600);
    }
  });

  it('warn over all portals when some chat failed in 4 consecutive periods, and while a change is held', () => {
    const failing = find('MembershipSync', 'ChatsFailed');
    expect(failing).toHaveLength(1);
    expect(failing[0]?.Properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      EvaluationPeriods: 4,
      DatapointsToAlarm: 4,
    });
    expect(metricOf(failing[0] as Resource)).toMatchObject({
      stat: 'Sum',
      period: 600,
      dimensions: jobWide,
    });
    expect(String(failing[0]?.Properties.AlarmDescription)).toContain(
      'MembershipSync/failing-chats',
    );
    const held = find('MembershipSync', 'ChangesHeld');
    expect(held).toHaveLength(1);
    expect(held[0]?.Properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
    expect(metricOf(held[0] as Resource).dimensions).toEqual(jobWide);
    expect(String(held[0]?.Properties.AlarmDescription)).toContain('membership-sync release');
  });

  it('count a portal awaiting credentials as fresh, and alarm once it has awaited a whole day', () => {
    const referencing = alarms().filter((a) =>
      JSON.stringify(a.Properties).includes('AwaitingCredentials'),
    );
    expect(referencing.map((a) => a.Properties.AlarmName).sort()).toEqual([
      'MembershipSync-Credentials-AwaitingLong-Warning',
      'MembershipSync-Freshness-Stale-Critical',
    ]);
    const [long] = find('MembershipSync', 'AwaitingCredentials');
    expect(metricOf(long as Resource).period).toBe(3600);
    expect(long?.Properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 24,
      DatapointsToAlarm: 24,
      TreatMissingData: 'notBreaching',
    });
  });

  it('wait alarms.awaitingCredentialsHours before the awaiting-credentials alarm, in periods that each hold a tick', () => {
    const input = configInput({
      alarms: { awaitingCredentialsHours: 6 },
      schedule: { expression: 'rate(2 hours)', timeZone: 'UTC' },
    });
    const all = Object.values(
      synth(input).template.findResources('AWS::CloudWatch::Alarm'),
    ) as Resource[];
    const [long] = all.filter(
      (a) => metricOf(a).name === 'AwaitingCredentials' && a.Properties.Metrics === undefined,
    );
    expect(metricOf(long as Resource).period).toBe(7200);
    expect(long?.Properties.EvaluationPeriods).toBe(3);
  });

  it('do not grow with the number of portals', () => {
    const many = configInput();
    many.portals = Array.from({ length: 30 }, (_, i) => ({
      id: `p${i}`,
      url: `https://p${i}.bitrix24.com`,
      chats: [1],
    }));
    const count = (t: ReturnType<typeof synth>['template']) =>
      Object.keys(t.findResources('AWS::CloudWatch::Alarm')).length;
    expect(count(synth(many).template)).toBe(count(synth().template));
  });

  it('name the portals behind them through saved Logs Insights queries over the worker log', () => {
    const { template, stack } = synth();
    const workerLogs = stack.node
      .findAll()
      .find((c) => c.node.path.endsWith('/WorkerLogs/Resource'));
    for (const name of ['failing-chats', 'held-changes', 'awaiting-credentials']) {
      template.hasResourceProperties('AWS::Logs::QueryDefinition', {
        Name: `MembershipSync/${name}`,
        LogGroupNames: Match.arrayWith([ref(workerLogs)]),
        QueryString: Match.stringLikeRegexp('by portalId'),
      });
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
  it('name the topic, table, dashboard, alarm topic, queues, schedule and the secret prefix — nothing per portal', () => {
    const outputs = synth().template.findOutputs('*');
    expect(Object.keys(outputs).sort()).toEqual([
      'AlarmTopicArn',
      'DashboardUrl',
      'PlannerFunctionName',
      'ScheduleDeadLetterQueueUrl',
      'ScheduleGroupName',
      'ScheduleName',
      'SecretNamePrefix',
      'TableName',
      'TopicArn',
      'WorkDeadLetterQueueUrl',
      'WorkerLogGroupName',
    ]);
    expect(outputs.SecretNamePrefix?.Value).toBe('membership-sync/');
  });
});

describe('a first deploy that fails', () => {
  it('leaves nothing retained behind: retained resources are kept on delete and update, not on a failed create', () => {
    const { template } = synth(configInput({ archive: { enabled: true } }));
    const retained = Object.entries(template.toJSON().Resources as Record<string, Resource>)
      .filter(([, r]) => r.DeletionPolicy !== undefined && r.DeletionPolicy !== 'Delete')
      .map(([, r]) => [r.Type, r.DeletionPolicy, r.UpdateReplacePolicy]);
    expect(retained).toEqual(
      expect.arrayContaining([
        ['AWS::KMS::Key', 'RetainExceptOnCreate', 'Retain'],
        ['AWS::S3::Bucket', 'RetainExceptOnCreate', 'Retain'],
        ['AWS::Logs::LogGroup', 'RetainExceptOnCreate', 'Retain'],
      ]),
    );
    // The table alone stays plainly retained: it is deletion-protected (a rollback could not
    // delete it) and has a generated name (a leftover one does not block the retry).
    expect(retained.filter(([, policy]) => policy === 'Retain')).toEqual([
      ['AWS::DynamoDB::GlobalTable', 'Retain', 'Retain'],
    ]);
    // The schedule group has a fixed name and no data: it goes with the stack.
    template.hasResource('AWS::Scheduler::ScheduleGroup', { DeletionPolicy: 'Delete' });
  });

  it('creates the schedule after its group (named literally) and its role’s invoke permission', () => {
    const { template, stack } = synth();
    const [, schedule] = only(
      template.findResources('AWS::Scheduler::Schedule') as Record<string, Resource>,
    );
    const group = stack.getLogicalId(cfnAt(stack, 'Schedule/Group/Resource'));
    const rolePolicy = stack.getLogicalId(cfnAt(stack, 'Schedule/Role/DefaultPolicy/Resource'));
    expect(typeof schedule.Properties.GroupName).toBe('string');
    expect(schedule.DependsOn).toEqual(expect.arrayContaining([group, rolePolicy]));
  });
});

describe('schedule time zone', () => {
  it('is set for a cron expression and left out for rate(), which has none', () => {
    const withCron = synth().template;
    withCron.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpressionTimezone: 'Europe/Berlin',
    });
    const withRate = synth(
      configInput({ schedule: { expression: 'rate(15 minutes)', timeZone: 'Europe/Berlin' } }),
    ).template;
    withRate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
      ScheduleExpressionTimezone: Match.absent(),
    });
  });
});

describe('subscribers in other accounts', () => {
  const eventTopicPolicy = (input: ReturnType<typeof configInput>) => {
    const { template, stack } = synth(input);
    const [, policy] = only(
      template.findResources('AWS::SNS::TopicPolicy', {
        Properties: { Topics: [ref(eventTopicCfn(stack))] },
      }) as Record<string, Resource>,
    );
    return {
      stack,
      statements: (policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement,
    };
  };

  it('may subscribe to the event topic when their account is listed', () => {
    const { stack, statements } = eventTopicPolicy(
      configInput({ topic: { subscriberAccounts: ['222222222222', '333333333333'] } }),
    );
    expect(statements).toContainEqual({
      Sid: 'AllowSubscriberAccountsToSubscribe',
      Effect: 'Allow',
      Principal: {
        AWS: ['222222222222', '333333333333'].map((account) => ({
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${account}:root`]],
        })),
      },
      Action: 'sns:Subscribe',
      Resource: ref(eventTopicCfn(stack)),
    });
  });

  it('may not by default: the topic policy only denies non-TLS publishing', () => {
    const { statements } = eventTopicPolicy(configInput());
    expect(statements).toEqual([expect.objectContaining({ Effect: 'Deny' })]);
  });
});

describe('archive subscription role', () => {
  it('may be assumed by SNS only for this account’s event topic', () => {
    const { template, stack } = synth(configInput({ archive: { enabled: true } }));
    const [, subscription] = only(
      template.findResources('AWS::SNS::Subscription', {
        Properties: { Protocol: 'firehose' },
      }) as Record<string, Resource>,
    );
    const [roleId] = (subscription.Properties.SubscriptionRoleArn as { 'Fn::GetAtt': [string] })[
      'Fn::GetAtt'
    ];
    const role = template.toJSON().Resources[roleId] as Resource;
    expect(role.Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Principal: { Service: 'sns.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': '111111111111' },
            ArnEquals: { 'aws:SourceArn': ref(eventTopicCfn(stack)) },
          },
        },
      ],
    });
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

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
  Condition?: unknown;
};
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
