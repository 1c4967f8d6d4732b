import { describe, expect, it } from 'vitest';
import { ChangePendingError, NothingHeldError } from '../../functions/core/errors.js';
import { contentHash } from '../../functions/core/member-set.js';
import type { Snapshot } from '../../functions/core/model.js';
import { releaseHeldChange } from '../../functions/core/release-held-change.js';

const held = {
  baseVersion: 3,
  detectedAt: '2026-01-05T10:00:00.000Z',
  joined: [],
  left: [2, 3, 4, 5, 6, 7],
  observedCount: 1,
  released: false,
};

function snapshot(fields: Partial<Snapshot> = {}): Snapshot {
  const members = [1, 2, 3, 4, 5, 6, 7];
  return {
    portalId: 'main',
    chatId: 12,
    members,
    version: 4,
    contentHash: contentHash(members),
    observedAt: '2026-01-05T10:00:00.000Z',
    sequence: 31,
    held,
    ...fields,
  };
}

describe('releaseHeldChange', () => {
  it('marks the held change released as the next version', () => {
    expect(releaseHeldChange(snapshot())).toMatchObject({
      version: 5,
      held: { ...held, released: true },
    });
  });

  it('refuses a chat with nothing held', () => {
    expect(() => releaseHeldChange(snapshot({ held: undefined }))).toThrow(NothingHeldError);
  });

  it('refuses a chat with a change in flight, naming when it was read', () => {
    const pending = {
      id: 'p1',
      kind: 'access_lost' as const,
      code: 'ACCESS_ERROR',
      observedAt: '2026-01-05T10:15:00.000Z',
      joined: [],
      left: [],
      eventCount: 1,
      published: 0,
    };
    expect(() => releaseHeldChange(snapshot({ pending }))).toThrow(ChangePendingError);
    expect(() => releaseHeldChange(snapshot({ pending }))).toThrow(/2026-01-05T10:15:00.000Z/);
  });
});
