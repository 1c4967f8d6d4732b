import { describe, expect, it } from 'vitest';
import { INITIAL_STATE_LABEL, OCSF_SCHEMA_VERSION, toOcsf } from '../../functions/consumer/ocsf.js';
import { EventTypes } from '../../functions/core/cloud-event.js';
import { createRandom } from '../../local/simulator/seeded-random.js';
import { generateHistory } from '../support/event-history.js';
import { checkGroupManagement, OCSF_VERSION } from '../support/ocsf-class.js';

const PRODUCT = {
  name: 'Bitrix24 chat membership sync',
  vendorName: 'bitrix24-chat-membership-sync',
  version: '0.1.0',
};

describe('OCSF Group Management events', () => {
  const { events } = generateHistory(createRandom(7), { chats: 3, steps: 15, partSize: 4 });
  const converted = events.map((event) => ({ event, ocsf: toOcsf(event, PRODUCT) }));

  it('targets the vendored schema version', () => {
    expect(OCSF_SCHEMA_VERSION).toBe(OCSF_VERSION);
  });

  it('validates against the Group Management class for every kind of event it emits', () => {
    const kinds = new Set<string>();
    for (const { ocsf } of converted) {
      for (const e of ocsf) {
        expect(checkGroupManagement(e as unknown as Record<string, unknown>)).toEqual([]);
        kinds.add(`${e.activity_id}${e.metadata.labels ? ':initial' : ''}`);
      }
    }
    expect([...kinds].sort()).toEqual(['3', '3:initial', '4']);
  });

  it('makes a join Add User and a leave Remove User of that user in that chat, keyed by the event ID', () => {
    const joined = events.find((e) => e.type === EventTypes.joined);
    const left = events.find((e) => e.type === EventTypes.left);
    const [add] = toOcsf(joined as never, PRODUCT);
    const [remove] = toOcsf(left as never, PRODUCT);
    const data = (e: unknown) => (e as { data: { userId: number; dialogId: string } }).data;
    expect(add).toMatchObject({
      class_uid: 3006,
      category_uid: 3,
      activity_id: 3,
      type_uid: 300603,
      user: { uid: String(data(joined).userId) },
      group: { uid: data(joined).dialogId },
      metadata: { uid: joined?.id },
      time: Date.parse(joined?.time ?? ''),
    });
    expect(remove).toMatchObject({ activity_id: 4, type_uid: 300604, metadata: { uid: left?.id } });
  });

  it('turns a baseline into one Add User per member, marked as the initial state', () => {
    const baseline = events.filter(
      (e) => e.type === EventTypes.baseline && (e.data as { chatId: number }).chatId === 1,
    );
    const members = baseline.flatMap((e) => (e.data as { members: number[] }).members);
    const adds = baseline.flatMap((e) => toOcsf(e, PRODUCT));
    expect(adds.map((a) => Number(a.user.uid))).toEqual(members);
    expect(
      adds.every((a) => a.activity_id === 3 && a.metadata.labels?.includes(INITIAL_STATE_LABEL)),
    ).toBe(true);
    expect(new Set(adds.map((a) => a.metadata.uid)).size).toBe(adds.length);
  });

  it('finds what the class forbids: the check can fail', () => {
    const [add] = toOcsf(events.find((e) => e.type === EventTypes.joined) as never, PRODUCT);
    const broken = { ...add, activity_id: 9, metadata: { version: '1.2.0' }, colour: 'red' };
    expect(checkGroupManagement(broken as unknown as Record<string, unknown>)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('activity_id: 9 is not one of'),
        'metadata.product: required',
        'colour: not an attribute here',
        'type_uid: not class_uid × 100 + activity_id',
      ]),
    );
  });
});
