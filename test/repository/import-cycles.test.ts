import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Module → the modules it imports or re-exports, type-only imports included: a type import ties two
 * concepts together as much as a value import does, so a bundler's graph (which erases them) is not enough.
 */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const path of sourcesUnder(dir)) {
    const source = readFileSync(path, 'utf8');
    const targets = [...source.matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)'/g)].map((match) =>
      join(dirname(path), (match[1] ?? '').replace(/\.js$/, '.ts')),
    );
    graph.set(path, targets);
  }
  return graph;
}

/** Strongly connected components with more than one module (Tarjan). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(target) ?? 0));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(target) ?? 0));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member === undefined) break;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('functions/', () => {
  it('has no import cycle', () => {
    const graph = importGraph('functions');
    expect(graph.size).toBeGreaterThan(30);
    expect(cycles(graph)).toEqual([]);
  });

  it('imports in one direction: core from nothing else, app never from handlers', () => {
    const graph = importGraph('functions');
    const crossing = [...graph].flatMap(([from, targets]) =>
      targets
        .filter(
          (to) =>
            (from.startsWith('functions/core/') && !to.startsWith('functions/core/')) ||
            (from.startsWith('functions/app/') && to.startsWith('functions/handlers/')),
        )
        .map((to) => `${from} → ${to}`),
    );
    expect(crossing).toEqual([]);
  });
});
