import { type CloudEvent, EventTypes } from '../core/cloud-event.js';

/**
 * OCSF (Open Cybersecurity Schema Framework) 1.x, class Group Management (IAM category): what
 * a SIEM or AWS Security Lake reads. A chat is a group; a join is activity 3 (Add User), a leave
 * activity 4 (Remove User). Class definition:
 * https://github.com/ocsf/ocsf-schema/blob/v1.2.0/events/iam/group_management.json
 */
export const OCSF_SCHEMA_VERSION = '1.2.0';
const IAM_CATEGORY_UID = 3;
const GROUP_MANAGEMENT_CLASS_UID = 3006;
const ADD_USER = 3;
const REMOVE_USER = 4;
const SEVERITY_INFORMATIONAL = 1;
const STATUS_SUCCESS = 1;
/** `metadata.labels` of the Add User events a baseline becomes: the chat's state when first read. */
export const INITIAL_STATE_LABEL = 'initial_state';

export interface OcsfProduct {
  readonly name: string;
  readonly vendorName: string;
  readonly version: string;
}

export interface OcsfGroupManagementEvent {
  readonly class_uid: number;
  readonly class_name: string;
  readonly category_uid: number;
  readonly category_name: string;
  readonly activity_id: number;
  readonly activity_name: string;
  readonly type_uid: number;
  readonly type_name: string;
  /** Epoch ms: when the change was observed (it happened in `start_time`…`end_time`). */
  readonly time: number;
  readonly start_time?: number;
  readonly end_time: number;
  readonly severity_id: number;
  readonly status_id: number;
  readonly message: string;
  readonly metadata: {
    readonly product: {
      readonly name: string;
      readonly vendor_name: string;
      readonly version: string;
    };
    readonly version: string;
    readonly uid: string;
    readonly sequence: number;
    readonly labels?: readonly string[];
  };
  readonly user: { readonly uid: string; readonly name?: string };
  readonly group: { readonly uid: string; readonly name: string };
  readonly actor?: { readonly user: { readonly uid: string } };
  readonly unmapped: Record<string, unknown>;
}

interface MemberData {
  readonly chatId: number;
  readonly dialogId: string;
  readonly portalId: string;
  readonly sequence: number;
  readonly window: { readonly from: string | null; readonly to: string };
  readonly userId?: number;
  readonly user?: { readonly name?: string } | null;
  readonly members?: readonly number[];
  readonly part?: number;
  readonly parts?: number;
  readonly attribution?: { readonly actorId: number | null } | null;
}

/**
 * The OCSF events of one membership event: one per member for a baseline part (Add User,
 * labelled {@link INITIAL_STATE_LABEL}), one for a join or a leave, none for the chat-level
 * events (access lost, held, retired), which change no membership. `metadata.uid` is the
 * CloudEvent's `id` (with `#<user>` for a baseline's members, one event each), so a SIEM
 * deduplicates as consumers do.
 */
export function toOcsf(event: CloudEvent, product: OcsfProduct): OcsfGroupManagementEvent[] {
  const data = event.data as MemberData;
  const common = (activity: number, userId: number, uid: string, labels?: string[]) => {
    const from = data.window.from === null ? undefined : Date.parse(data.window.from);
    const actorId = data.attribution?.actorId;
    return {
      class_uid: GROUP_MANAGEMENT_CLASS_UID,
      class_name: 'Group Management',
      category_uid: IAM_CATEGORY_UID,
      category_name: 'Identity & Access Management',
      activity_id: activity,
      activity_name: activity === ADD_USER ? 'Add User' : 'Remove User',
      type_uid: GROUP_MANAGEMENT_CLASS_UID * 100 + activity,
      type_name: `Group Management: ${activity === ADD_USER ? 'Add User' : 'Remove User'}`,
      time: Date.parse(event.time),
      ...(from === undefined ? {} : { start_time: from }),
      end_time: Date.parse(data.window.to),
      severity_id: SEVERITY_INFORMATIONAL,
      status_id: STATUS_SUCCESS,
      message: `user ${userId} ${activity === ADD_USER ? 'added to' : 'removed from'} Bitrix24 chat ${data.chatId}`,
      metadata: {
        product: { name: product.name, vendor_name: product.vendorName, version: product.version },
        version: OCSF_SCHEMA_VERSION,
        uid,
        sequence: data.sequence,
        ...(labels ? { labels } : {}),
      },
      user: {
        uid: String(userId),
        ...(data.userId === userId && data.user?.name ? { name: data.user.name } : {}),
      },
      group: { uid: data.dialogId, name: data.dialogId },
      ...(typeof actorId === 'number' ? { actor: { user: { uid: String(actorId) } } } : {}),
      unmapped: {
        source: event.source,
        portalId: data.portalId,
        chatId: data.chatId,
        type: event.type,
        window: data.window,
      },
    };
  };
  switch (event.type) {
    case EventTypes.joined:
    case EventTypes.left:
      return [
        common(
          event.type === EventTypes.joined ? ADD_USER : REMOVE_USER,
          data.userId as number,
          event.id,
        ),
      ];
    case EventTypes.baseline:
      return (data.members ?? []).map((userId) =>
        common(ADD_USER, userId, `${event.id}#${userId}`, [INITIAL_STATE_LABEL]),
      );
    default:
      return [];
  }
}
