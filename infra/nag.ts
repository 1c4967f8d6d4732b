import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * A resource ARN as cdk-nag names it in a finding (`AwsSolutions-IAM5[Resource::…]`): tokens
 * resolved, `Ref`s as `<Name>`, `Fn::GetAtt` as `<Name.Attr>`, `Fn::Join` joined.
 */
export function nagResource(scope: IConstruct, value: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node;
    const o = node as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (Array.isArray(o['Fn::GetAtt'])) {
      const [resource, attribute] = o['Fn::GetAtt'] as [string, string];
      return `<${resource}.${attribute}>`;
    }
    if (typeof o.Ref === 'string') return `<${o.Ref}>`;
    return JSON.stringify(node);
  };
  return visit(Stack.of(scope).resolve(value));
}
