import { AccountPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
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
  /**
   * Other AWS accounts whose principals may subscribe (their own IAM must allow it too). They
   * need no use of the topic key: SNS decrypts a message before it delivers it.
   * @default - none: only this account subscribes
   */
  readonly subscriberAccounts?: readonly string[];
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
    // The topic policy replaces SNS's default one, so a cross-account subscription needs its own
    // Allow next to the TLS Deny that `enforceSSL` adds.
    const accounts = props.subscriberAccounts ?? [];
    if (accounts.length > 0) {
      this.topic.addToResourcePolicy(
        new PolicyStatement({
          sid: 'AllowSubscriberAccountsToSubscribe',
          principals: accounts.map((account) => new AccountPrincipal(account)),
          actions: ['sns:Subscribe'],
          resources: [this.topic.topicArn],
        }),
      );
    }
  }
}
