import { describe, expect, it } from 'vitest';
import { SnapshotConflictError } from '../../functions/core/errors.js';
import { contentHash } from '../../functions/core/member-set.js';
import type { Snapshot } from '../../functions/core/model.js';
import { FakeMemberReader, InMemorySnapshotStore, noAccess } from '../support/fakes.js';

function snapshot(version: number, members: number[], fields: Partial<Snapshot> = {}): Snapshot {
  return {
    portalId: 'main',
    chatId: 12,
    members,
    version,
    contentHash: contentHash(members),
    observedAt: '2026-01-05T10:00:00.000Z',
    sequence: version,
    ...fields,
  };
}

describe('InMemorySnapshotStore', () => {
  it('creates a snapshot only when none exists', async () => {
    // Prepare
    const store = new InMemorySnapshotStore();
    await store.save(snapshot(1, [1]), { version: undefined });

    // Act
    const second = store.save(snapshot(1, [2]), { version: undefined });

    // Assess
    await expect(second).rejects.toBeInstanceOf(SnapshotConflictError);
    expect(store.get('main', 12)?.members).toEqual([1]);
  });

  it('updates only from the version that was read', async () => {
    // Prepare
    const store = new InMemorySnapshotStore().put(snapshot(3, [1]));

    // Act
    const stale = store.save(snapshot(3, [2]), { version: 2 });
    await store.save(snapshot(4, [3]), { version: 3 });

    // Assess
    await expect(stale).rejects.toBeInstanceOf(SnapshotConflictError);
    expect(store.get('main', 12)).toMatchObject({ members: [3], version: 4 });
  });

  it('writes nothing when members, hold and access flag are unchanged', async () => {
    // Prepare
    const store = new InMemorySnapshotStore().put(snapshot(3, [1, 2]));

    // Act
    await store.save(snapshot(4, [1, 2]), { version: 3 });

    // Assess
    expect(store.writes()).toEqual([]);
    expect(store.get('main', 12)?.version).toBe(3);
  });

  it('writes a change of the access flag alone', async () => {
    // Prepare
    const store = new InMemorySnapshotStore().put(snapshot(3, [1, 2]));

    // Act
    await store.save(snapshot(4, [1, 2], { accessLostAt: '2026-01-05T10:00:00.000Z' }), {
      version: 3,
    });

    // Assess
    expect(store.get('main', 12)).toMatchObject({ version: 4, accessLostAt: expect.any(String) });
  });

  it('hands out copies, so callers cannot change what is stored', async () => {
    // Prepare
    const store = new InMemorySnapshotStore().put(snapshot(3, [1, 2]));
    const loaded = (await store.loadMany('main', [12])).get(12) as Snapshot;

    // Act
    (loaded.members as number[]).push(99);

    // Assess
    expect(store.get('main', 12)?.members).toEqual([1, 2]);
  });

  it('rejects a snapshot that breaks the model', async () => {
    const store = new InMemorySnapshotStore();
    await expect(store.save({ ...snapshot(1, [2, 1]) }, { version: undefined })).rejects.toThrow(
      /canonical/,
    );
    await expect(
      store.save({ ...snapshot(1, [1]), contentHash: 'x' }, { version: undefined }),
    ).rejects.toThrow(/contentHash/);
    await expect(store.save(snapshot(5, [1]), { version: undefined })).rejects.toThrow(/version/);
  });
});

describe('FakeMemberReader', () => {
  it('plays each chat script in order and repeats its last read', async () => {
    // Prepare
    const reader = new FakeMemberReader().script(12, noAccess(12)).members(13, [1]);
    reader.script(12, noAccess(12, 'A'), noAccess(12, 'B'));

    // Act
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const read = (await reader.readMembers([12])).get(12);
      codes.push(read?.kind === 'no_access' ? read.code : '?');
    }

    // Assess
    expect(codes).toEqual(['A', 'B', 'B']);
    expect((await reader.readMembers([14])).get(14)).toMatchObject({ kind: 'failed' });
  });
});
