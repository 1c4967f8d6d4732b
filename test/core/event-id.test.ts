import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EventTypes } from '../../functions/core/cloud-event.js';
import { type EventIdInput, eventId } from '../../functions/core/event-id.js';

const base: EventIdInput = {
  source: 'https://example.bitrix24.com',
  chatId: 12,
  userId: 7,
  type: EventTypes.joined,
  baseVersion: 4,
};

describe('eventId', () => {
  it('is the sha256 hex of portal, chat, user, type and base version', () => {
    const expected = createHash('sha256')
      .update(`https://example.bitrix24.com\n12\n7\n${EventTypes.joined}\n4`)
      .digest('hex');
    expect(eventId(base)).toBe(expected);
  });

  it('is identical for the same inputs', () => {
    expect(eventId({ ...base })).toBe(eventId(base));
  });

  it.each([
    ['portal', { source: 'https://other.bitrix24.com' }],
    ['chat', { chatId: 13 }],
    ['user', { userId: 8 }],
    ['type', { type: EventTypes.left }],
    ['base version', { baseVersion: 5 }],
    ['discriminator', { discriminator: 'part/1/2' }],
  ])('changes with the %s', (_field, change) => {
    expect(eventId({ ...base, ...change })).not.toBe(eventId(base));
  });

  it('hashes a chat-level event with "-" in place of the user', () => {
    const { userId: _none, ...chatLevel } = base;
    const expected = createHash('sha256')
      .update(`https://example.bitrix24.com\n12\n-\n${EventTypes.joined}\n4`)
      .digest('hex');
    expect(eventId(chatLevel)).toBe(expected);
  });
});
