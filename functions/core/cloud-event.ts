/** CloudEvents 1.0, JSON structured mode. The contract for consumers: docs/events.md. */
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
  retired: `${EVENT_TYPE_PREFIX}.chat.retired.v1`,
} as const;

export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

/**
 * Every event's `dataschema`, and each `schemas/*.json` file's `$id`: a URN naming the schema,
 * `urn:bitrix24-chat-membership-sync:schema:<type without prefix>`. A name, not an address: it
 * does not pretend to resolve anywhere; the schema is the file `schemas/<that name>.json`
 * shipped with the project (docs/events.md). Stable across releases; a breaking change gets a new
 * type version and with it a new name.
 */
export const SCHEMA_URN_PREFIX = 'urn:bitrix24-chat-membership-sync:schema:';

/** `….chat.member.joined.v1` → `chat.member.joined.v1.json` (the file in `schemas/`). */
export function schemaFileOf(type: EventType): string {
  return `${schemaNameOf(type)}.json`;
}

function schemaNameOf(type: EventType): string {
  return type.slice(EVENT_TYPE_PREFIX.length + 1);
}

export function dataschemaOf(type: EventType): string {
  return `${SCHEMA_URN_PREFIX}${schemaNameOf(type)}`;
}

/**
 * The CloudEvents `source` of a portal: the origin of its base URL. Taking the origin drops any
 * path, so a misconfigured webhook URL can never leak its secret code into an event.
 */
export function sourceOf(baseUrl: string): string {
  return new URL(baseUrl).origin;
}

/**
 * Attributes an SNS publisher mirrors as message attributes so subscribers can filter
 * without parsing bodies. Built by the core with each event.
 */
export interface EventAttributes {
  readonly type: EventType;
  /** The portal's base URL, equal to the event's `source` and `data.portal`. */
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
  /** FIFO message group: `${portalId}#${chatId}`. */
  readonly groupKey: string;
}
