import { Duration, Validations } from 'aws-cdk-lib';
import {
  DeduplicationScope,
  FifoThroughputLimit,
  Queue,
  QueueEncryption,
} from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface WorkQueueProps {
  /** The consumer's timeout; the visibility timeout is six times it (AWS's SQS→Lambda guidance). */
  readonly consumerTimeout: Duration;
  /**
   * Receives before a work item moves to the DLQ. Each receive is one worker attempt at up to 50
   * chats; by the fifth the cause is not transient.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /** @default Duration.days(14) (the SQS maximum, so a DLQ'd item survives a long weekend) */
  readonly dlqRetention?: Duration;
}

/**
 * The planner→worker FIFO queue. MessageGroupId = portal (set by the planner), so one portal is
 * synced at a time; the planner sets a deterministic MessageDeduplicationId per tick and chunk,
 * so content-based deduplication stays off.
 */
export class WorkQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    this.maxReceiveCount = props.maxReceiveCount ?? 5;

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      fifo: true,
      retentionPeriod: props.dlqRetention ?? Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'cdk-validator-cfnguard::sqs_dlq_check',
      reason:
        'The dead-letter queue is the end of the line: its depth alarms (docs/operations.md).',
    });
    this.queue = new Queue(this, 'Queue', {
      fifo: true,
      contentBasedDeduplication: false,
      // One group per portal: per-group throughput keeps portals independent.
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      // Default retention (4 days): an expired item would vanish without reaching the DLQ.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
    });

    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of the work queue; a DLQ of a DLQ would only move the same messages again. Its depth is alarmed.',
    });
  }
}
