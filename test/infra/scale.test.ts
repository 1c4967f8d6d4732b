import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  MAX_SECRET_ARN_CHARS_OUTSIDE_PREFIX,
  parseConfig,
} from '../../functions/config/config-schema.js';
import {
  LIMITS,
  measureTemplate,
  portalsConfig,
  synthesizeTemplate,
  type TemplateMeasure,
} from '../../infra/template-limits.js';

/**
 * A thousand portals fit one stack: the template does not grow with the portals beyond what each
 * truly needs (docs/scale.md). Measured on the synthesized template with every reference resolved
 * to its longest plausible value.
 */

const measured = new Map<number, TemplateMeasure>();
function measure(count: number): TemplateMeasure {
  let m = measured.get(count);
  if (!m) {
    m = measureTemplate(synthesizeTemplate(portalsConfig(count)));
    measured.set(count, m);
  }
  return m;
}

const values = (o: Readonly<Record<string, number>>) => Object.values(o);

describe('a stack of 1,000 portals', () => {
  it('stays under every CloudFormation, Lambda, IAM and KMS limit', () => {
    const m = measure(1000);
    expect(m.resources).toBeLessThan(LIMITS.resources);
    expect(m.outputs).toBeLessThanOrEqual(LIMITS.outputs);
    expect(m.templateBytes).toBeLessThan(LIMITS.templateBytes);
    expect(values(m.environmentBytes)).toHaveLength(2);
    for (const bytes of values(m.environmentBytes)) {
      expect(bytes).toBeLessThan(LIMITS.environmentBytes);
    }
    for (const chars of values(m.roleInlinePolicyChars)) {
      expect(chars).toBeLessThan(LIMITS.roleInlinePolicyChars);
    }
    for (const chars of values(m.managedPolicyChars)) {
      expect(chars).toBeLessThan(LIMITS.managedPolicyChars);
    }
    for (const chars of values(m.trustPolicyChars)) {
      expect(chars).toBeLessThan(LIMITS.trustPolicyChars);
    }
    for (const bytes of values(m.keyPolicyBytes)) {
      expect(bytes).toBeLessThan(LIMITS.keyPolicyBytes);
    }
  });

  it('is the same template as one of 40 portals, but for the worker’s concurrency', () => {
    const few = measure(40);
    const many = measure(1000);
    expect(many.resources).toBe(few.resources);
    expect(many.environmentBytes).toEqual(few.environmentBytes);
    expect(many.roleInlinePolicyChars).toEqual(few.roleInlinePolicyChars);
    // MaximumConcurrency 40 → 1000: two more digits.
    expect(many.templateBytes - few.templateBytes).toBeLessThanOrEqual(2);
  });

  // Long ARNs (150 characters): the worst case for the policy size within the budget.
  const longArn = (id: string) =>
    `arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:${'team-secrets/'.repeat(5)}${id}-AbCdEf`.padEnd(
      150,
      'x',
    );
  const outsideWithin = Math.floor(MAX_SECRET_ARN_CHARS_OUTSIDE_PREFIX / (150 + 3));

  it(`still fits with as many secrets outside the prefix as the config allows (${outsideWithin} long ARNs)`, () => {
    const input = portalsConfig(1000);
    input.portals = input.portals.map((p, i) =>
      i < outsideWithin ? { ...p, secret: { arn: longArn(p.id) } } : p,
    );
    const m = measureTemplate(synthesizeTemplate(input));
    for (const chars of values(m.roleInlinePolicyChars)) {
      expect(chars).toBeLessThan(LIMITS.roleInlinePolicyChars);
    }
    for (const chars of values(m.managedPolicyChars)) {
      expect(chars).toBeLessThan(LIMITS.managedPolicyChars);
    }
  });

  it('rejects more secrets outside the prefix than the policy holds, naming the field', () => {
    const input = portalsConfig(outsideWithin + 1);
    input.portals = input.portals.map((p) => ({ ...p, secret: { arn: longArn(p.id) } }));
    let error: unknown;
    try {
      parseConfig(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      {
        path: 'portals',
        message: expect.stringContaining(`at most ${MAX_SECRET_ARN_CHARS_OUTSIDE_PREFIX}`),
      },
    ]);
  });
});
