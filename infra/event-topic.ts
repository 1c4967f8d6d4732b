import type { IKey } from 'aws-cdk-lib/aws-kms';
import { FifoThroughputScope, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface EventTopicProps {
  /**
   * `standard` works with every subscriber (email, Lambda, HTTPS, SQS); `fifo` gives strict
   * per-chat order (MessageGroupId = portal + chat) but delivers to SQS queues only.
   */
  readonly kind: 'standard' | 'fifo';
  /** Customer-managed key for server-side encryption (publishers need it: see `grantPublish`). */
  readonly masterKey: IKey;
  /**
   * FIFO only: keep published messages this many days for replay (SNS FIFO archive, ≤ 365).
   * @default - no archive
   */
  readonly fifoArchiveDays?: number;
}

/** The membership-change topic: one CloudEvent per message, attributes mirrored for filtering. */
export class EventTopic extends Construct {
  readonly topic: Topic;
  readonly fifo: boolean;

  constructor(scope: Construct, id: string, props: EventTopicProps) {
    super(scope, id);
    this.fifo = props.kind === 'fifo';
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Bitrix24 chat membership changes',
      masterKey: props.masterKey,
      enforceSSL: true,
      ...(this.fifo
        ? {
            fifo: true,
            // The publisher sets MessageDeduplicationId = the CloudEvent id (deterministic).
            contentBasedDeduplication: false,
            // Groups are portal + chat: throughput per group, not per topic.
            fifoThroughputScope: FifoThroughputScope.MESSAGE_GROUP,
            messageRetentionPeriodInDays: props.fifoArchiveDays,
          }
        : {}),
    });
  }
}
