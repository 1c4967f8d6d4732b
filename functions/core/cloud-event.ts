/** CloudEvents 1.0, JSON structured mode. See DESIGN.md "Event contract". */
export interface CloudEvent<T = unknown> {
  readonly specversion: '1.0';
  readonly id: string;
  /** Portal base URL, never a webhook path. */
  readonly source: string;
  readonly type: EventType;
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly dataschema: string;
  readonly data: T;
}

export const EVENT_TYPE_PREFIX = 'com.bitrix24.membership-sync';

export const EventTypes = {
  joined: `${EVENT_TYPE_PREFIX}.chat.member.joined.v1`,
  left: `${EVENT_TYPE_PREFIX}.chat.member.left.v1`,
  baseline: `${EVENT_TYPE_PREFIX}.chat.baseline.v1`,
  accessLost: `${EVENT_TYPE_PREFIX}.chat.access_lost.v1`,
  massChangeHeld: `${EVENT_TYPE_PREFIX}.chat.mass_change_held.v1`,
} as const;

export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

/**
 * Attributes an SNS publisher mirrors as message attributes so subscribers can filter
 * without parsing bodies. Built by the core with each event.
 */
export interface EventAttributes {
  readonly type: EventType;
  readonly portal: string;
  readonly chatId: number;
  readonly userId?: number;
  readonly bot?: boolean;
  readonly extranet?: boolean;
}

/** What the core hands to an {@link EventPublisher}. */
export interface OutgoingEvent {
  readonly event: CloudEvent;
  readonly attributes: EventAttributes;
  /** FIFO message group: portal + chat. */
  readonly groupKey: string;
}
