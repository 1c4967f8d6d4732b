import type { Attribution, UserId } from './model.js';
import {
  type ChatMessage,
  DEFAULT_SYSTEM_TEXTS,
  type MembershipEvidence,
  parseSystemMessage,
  type SystemTexts,
} from './system-messages.js';

/**
 * Who changed each changed member and when, from the chat's system messages (docs/events.md,
 * `data.attribution`). Precision over recall: a wrong actor is worse than none.
 *
 * For each member the latest message about them after `since` decides: it attributes the change
 * when its direction is the diff's, else (a later message contradicts) the member gets null.
 * Messages at or before `since` describe changes an earlier read already reported.
 *
 * @param messages newest or oldest first, any order; undefined when they could not be read (every
 *   member gets null: the change is never held back for its attribution).
 * @returns one entry per member of `joined` and `left`.
 */
export function attributeChanges(
  diff: { readonly joined: readonly UserId[]; readonly left: readonly UserId[] },
  messages: readonly ChatMessage[] | undefined,
  since: string | null,
  texts: SystemTexts = DEFAULT_SYSTEM_TEXTS,
): Map<UserId, Attribution | null> {
  const latest = new Map<UserId, MembershipEvidence>();
  const sinceMs = since === null ? Number.NEGATIVE_INFINITY : Date.parse(since);
  for (const message of messages ?? []) {
    const evidence = parseSystemMessage(message, texts);
    if (evidence === undefined || Date.parse(evidence.at) <= sinceMs) continue;
    for (const userId of evidence.userIds) {
      const seen = latest.get(userId);
      if (seen === undefined || later(evidence, seen)) latest.set(userId, evidence);
    }
  }
  const out = new Map<UserId, Attribution | null>();
  const decide = (userId: UserId, direction: MembershipEvidence['direction']) => {
    const evidence = latest.get(userId);
    out.set(
      userId,
      evidence === undefined || evidence.direction !== direction
        ? null
        : {
            actorId: evidence.actorId,
            at: evidence.at,
            how: evidence.how,
            messageId: evidence.messageId,
          },
    );
  };
  for (const userId of diff.joined) decide(userId, 'joined');
  for (const userId of diff.left) decide(userId, 'left');
  return out;
}

// Message IDs grow with time; dates have one-second precision, so the ID orders.
function later(a: MembershipEvidence, b: MembershipEvidence): boolean {
  return a.messageId > b.messageId;
}
