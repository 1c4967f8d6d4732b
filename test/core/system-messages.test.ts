import { describe, expect, it } from 'vitest';
import { attributeChanges } from '../../functions/core/attribute-changes.js';
import { type ChatMessage, parseSystemMessage } from '../../functions/core/system-messages.js';
import {
  PORTAL_LANGUAGES,
  type PortalLanguage,
  renderSystemText,
  SYSTEM_TEXTS,
} from '../../local/simulator/system-texts.js';

const anna = { id: 7, name: 'Anna Petrova', gender: 'F' as const };
const boris = { id: 503, name: 'Boris Smirnov', gender: 'M' as const };
const carla = { id: 12, name: 'Carla Keller', gender: 'F' as const };

function message(text: string, code: unknown, extra: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: 100,
    authorId: 0,
    date: '2026-12-04T10:01:05+03:00',
    text,
    params: code === undefined ? [] : { CODE: code },
    ...extra,
  };
}

describe('parseSystemMessage on the texts a portal writes', () => {
  for (const language of PORTAL_LANGUAGES) {
    const table = SYSTEM_TEXTS[language as PortalLanguage];
    describe(language, () => {
      it('reads an invitation: the first tag invited the others', () => {
        const text = renderSystemText(table, 'invited', { actor: anna, users: [boris, carla] });
        expect(parseSystemMessage(message(text, 'CHAT_JOIN'))).toEqual({
          messageId: 100,
          at: '2026-12-04T07:01:05.000Z',
          direction: 'joined',
          how: 'invited',
          actorId: 7,
          userIds: [503, 12],
        });
      });
      it('reads a self-join or system add without an actor, one user or several', () => {
        const one = renderSystemText(table, 'joinedOne', { users: [boris] });
        const many = renderSystemText(table, 'joinedMany', { users: [boris, carla] });
        expect(parseSystemMessage(message(one, ['CHAT_JOIN']))).toMatchObject({
          how: 'self_joined',
          actorId: null,
          userIds: [503],
        });
        expect(parseSystemMessage(message(many, 'CHAT_JOIN'))).toMatchObject({
          how: 'self_joined',
          actorId: null,
          userIds: [503, 12],
        });
      });
      it('reads a join through a sharing link: the link author is the actor', () => {
        const text = renderSystemText(table, 'joinedViaLink', { actor: anna, users: [boris] });
        expect(parseSystemMessage(message(text, 'CHAT_JOIN'))).toMatchObject({
          how: 'joined_via_link',
          actorId: 7,
          userIds: [503],
        });
      });
      it('tells a removal from a leave by the user tags (REPLACE tags too)', () => {
        const kick = renderSystemText(table, 'removed', {
          actor: anna,
          users: [boris],
          replace: true,
        });
        const leave = renderSystemText(table, 'left', { users: [boris] });
        expect(parseSystemMessage(message(kick, 'CHAT_LEAVE'))).toMatchObject({
          direction: 'left',
          how: 'removed',
          actorId: 7,
          userIds: [503],
        });
        expect(parseSystemMessage(message(leave, ['CHAT_LEAVE']))).toMatchObject({
          direction: 'left',
          how: 'left',
          actorId: 503,
          userIds: [503],
        });
      });
      it('finds no evidence in the avatar-change text, though it carries CHAT_LEAVE', () => {
        const text = renderSystemText(table, 'avatarChanged', { users: [boris] });
        expect(parseSystemMessage(message(text, 'CHAT_LEAVE'))).toBeUndefined();
      });
      it("finds no evidence in the general chat's leave text (a plain name)", () => {
        const text = renderSystemText(table, 'generalLeft', { users: [boris] });
        expect(parseSystemMessage(message(text, 'CHAT_LEAVE'))).toBeUndefined();
      });
      it("finds no evidence in a workgroup's text without CODE", () => {
        const text = renderSystemText(table, 'workgroupJoined', { users: [boris] });
        expect(parseSystemMessage(message(text, undefined))).toBeUndefined();
      });
    });
  }

  it('ignores a SYSTEM=Y spoof (author 0, no CODE) and a message by a user', () => {
    const text = renderSystemText(SYSTEM_TEXTS.en, 'removed', { actor: anna, users: [boris] });
    expect(parseSystemMessage(message(text, undefined))).toBeUndefined();
    expect(parseSystemMessage(message(text, 'CHAT_LEAVE', { authorId: 7 }))).toBeUndefined();
    expect(parseSystemMessage(message(text, ['CHAT_LEAVE', 'X']))).toBeUndefined();
  });

  it('ignores a date without an offset (it would be read in the runner zone)', () => {
    const text = renderSystemText(SYSTEM_TEXTS.en, 'left', { users: [boris] });
    expect(
      parseSystemMessage(message(text, 'CHAT_LEAVE', { date: '2026-12-04T10:01:05' })),
    ).toBeUndefined();
  });
});

describe('attributeChanges', () => {
  const en = SYSTEM_TEXTS.en;
  const at = (id: number, seconds: number, text: string, code: string): ChatMessage => ({
    id,
    authorId: 0,
    date: `2026-12-04T10:00:${String(seconds).padStart(2, '0')}+00:00`,
    text,
    params: { CODE: code },
  });
  const invite = at(
    10,
    10,
    renderSystemText(en, 'invited', { actor: anna, users: [boris] }),
    'CHAT_JOIN',
  );
  const kick = at(
    11,
    20,
    renderSystemText(en, 'removed', { actor: anna, users: [boris] }),
    'CHAT_LEAVE',
  );

  it('attributes each member from the latest message about them that agrees with the diff', () => {
    const got = attributeChanges({ joined: [], left: [503] }, [kick, invite], null);
    expect(got.get(503)).toEqual({
      actorId: 7,
      at: '2026-12-04T10:00:20.000Z',
      how: 'removed',
      messageId: 11,
    });
  });

  it('gives null when a later message contradicts the direction', () => {
    const got = attributeChanges({ joined: [503], left: [] }, [invite, kick], null);
    expect(got.get(503)).toBeNull();
  });

  it('ignores messages at or before the previous read (an old invite is not a silent re-join)', () => {
    const got = attributeChanges({ joined: [503], left: [] }, [invite], '2026-12-04T10:00:10Z');
    expect(got.get(503)).toBeNull();
  });

  it('gives every member null when the messages could not be read', () => {
    const got = attributeChanges({ joined: [503], left: [12] }, undefined, null);
    expect([...got]).toEqual([
      [503, null],
      [12, null],
    ]);
  });
});
