import { describe, expect, it } from 'vitest';
import { decideBreaker, tripsBreaker } from '../../functions/core/breaker.js';
import type { HeldChange } from '../../functions/core/model.js';
import { DEFAULT_BREAKER } from '../../functions/core/model.js';
import { range } from '../support/fakes.js';

function heldOf(left: number[], released: boolean): HeldChange {
  return {
    baseVersion: 3,
    detectedAt: '2026-01-05T10:00:00.000Z',
    joined: [],
    left,
    observedCount: 10,
    released,
  };
}

describe('tripsBreaker', () => {
  it.each([
    { left: 6, previous: 12, trips: false, why: 'exactly 50 %' },
    { left: 7, previous: 12, trips: true, why: 'over 50 % and over 5' },
    { left: 5, previous: 6, trips: false, why: 'exactly 5, though over 50 %' },
    { left: 6, previous: 7, trips: true, why: 'six of seven' },
    { left: 5, previous: 5, trips: false, why: 'everyone of a five-member chat' },
    { left: 100, previous: 1_000, trips: false, why: '10 % of a big chat' },
    { left: 501, previous: 1_000, trips: true, why: 'just over half of a big chat' },
    { left: 0, previous: 0, trips: false, why: 'nothing' },
  ])('says $trips for $left of $previous ($why)', ({ left, previous, trips }) => {
    expect(tripsBreaker(left, previous, DEFAULT_BREAKER)).toBe(trips);
  });

  it('uses the configured thresholds', () => {
    expect(tripsBreaker(3, 10, { maxRemovedShare: 0.2, minRemoved: 2 })).toBe(true);
    expect(tripsBreaker(2, 10, { maxRemovedShare: 0.2, minRemoved: 2 })).toBe(false);
  });
});

describe('decideBreaker', () => {
  const massLeave = { joined: [], left: range(1, 8) };

  it('applies a diff below the thresholds', () => {
    expect(decideBreaker({ joined: [], left: [1] }, 10, undefined, DEFAULT_BREAKER)).toEqual({
      action: 'apply',
    });
  });

  it('holds a mass leave as a new hold', () => {
    expect(decideBreaker(massLeave, 10, undefined, DEFAULT_BREAKER)).toEqual({
      action: 'hold',
      isNew: true,
    });
  });

  it('keeps an unreleased hold of the same leaves without announcing it again', () => {
    expect(decideBreaker(massLeave, 10, heldOf(range(1, 8), false), DEFAULT_BREAKER)).toEqual({
      action: 'hold',
      isNew: false,
    });
  });

  it('holds afresh when the leave set differs from the held one', () => {
    expect(decideBreaker(massLeave, 10, heldOf(range(1, 7), false), DEFAULT_BREAKER)).toEqual({
      action: 'hold',
      isNew: true,
    });
  });

  it('applies a released hold when the leaves are the approved ones', () => {
    expect(decideBreaker(massLeave, 10, heldOf(range(1, 8), true), DEFAULT_BREAKER)).toEqual({
      action: 'apply_released',
    });
  });

  it('applies a released hold when fewer members leave than were approved', () => {
    const fewer = { joined: [42], left: range(1, 7) };
    expect(decideBreaker(fewer, 10, heldOf(range(1, 8), true), DEFAULT_BREAKER)).toEqual({
      action: 'apply_released',
    });
  });

  it('holds again when a released hold would remove someone not approved', () => {
    const more = { joined: [], left: range(1, 9) };
    expect(decideBreaker(more, 10, heldOf(range(1, 8), true), DEFAULT_BREAKER)).toEqual({
      action: 'hold',
      isNew: true,
    });
  });
});
