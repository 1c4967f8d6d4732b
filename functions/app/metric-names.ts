/**
 * The worker's EMF metrics, shared with the stack's alarms and dashboard (`infra/monitoring.ts`).
 * Each is emitted twice: with the dimensions `service` (added by Powertools) and `portal`, for the
 * dashboard's per-portal views, and with `service` alone, for the alarms that cover all portals
 * (docs/operations.md).
 */
export const METRICS_NAMESPACE = 'MembershipSync';
export const SERVICE_NAME = 'membership-sync';

export const WORKER_METRICS = {
  /** Chats whose sync completed (any outcome but failed/conflict). Feeds the freshness alarm. */
  chatsSynced: 'ChatsSynced',
  membersRead: 'MembersRead',
  membersJoined: 'MembersJoined',
  membersLeft: 'MembersLeft',
  changesHeld: 'ChangesHeld',
  chatsFailed: 'ChatsFailed',
  bitrix24Requests: 'Bitrix24Requests',
  /**
   * Of those, the ones the portal refused with 503 QUERY_LIMIT_EXCEEDED: the portal's rate limit
   * is shared with other integrations (docs/bitrix24-rate-limits.md).
   */
  rateLimited: 'RateLimited',
  chatSyncDuration: 'ChatSyncDuration',
  /** Hinted reads: membership changes found by reading a chat the hints named or not. */
  changesDetected: 'ChangesDetected',
  /** Hinted reads: changes a reconcile read found in a chat the hints did not name. */
  hintMisses: 'HintMisses',
} as const;

/**
 * Work items (worker) and discovery plans (planner) skipped because the portal's secret does not
 * exist yet or holds the placeholder. Same dimensions as the worker's metrics. Never alarmed on
 * its own: it counts as activity in the freshness (Stale) alarm, so a first deploy is calm.
 */
export const AWAITING_CREDENTIALS_METRIC = 'AwaitingCredentials';
