import { describe, expect, it } from 'vitest';
import { EventTypes } from '../../functions/core/cloud-event.js';
import { ARCHIVE_DATA_PREFIX } from '../../infra/audit-archive.js';
import { archiveSql, type HiveType, parseTableColumns } from '../support/archive-ddl.js';
import { schemaFor } from '../support/event-schemas.js';

interface SchemaNode {
  readonly $ref?: string;
  readonly anyOf?: readonly SchemaNode[];
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly type?: string | readonly string[];
  readonly items?: SchemaNode;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
}

/** The Hive type a JSON Schema node needs in the JSON SerDe table. */
function hiveTypeOf(node: SchemaNode, root: Record<string, unknown>, at: string): HiveType {
  if (node.$ref !== undefined) {
    const name = node.$ref.replace('#/$defs/', '');
    const defs = root.$defs as Record<string, SchemaNode>;
    const target = defs[name];
    if (target === undefined) throw new Error(`${at}: unresolved ${node.$ref}`);
    return hiveTypeOf(target, root, at);
  }
  if (node.anyOf !== undefined) {
    const options = node.anyOf.filter((o) => o.type !== 'null');
    if (options.length !== 1) throw new Error(`${at}: anyOf with ${options.length} non-null types`);
    return hiveTypeOf(options[0] as SchemaNode, root, at);
  }
  if (typeof node.const === 'string') return { kind: 'string' };
  if (node.enum?.every((v) => typeof v === 'string')) return { kind: 'string' };
  const types = (Array.isArray(node.type) ? node.type : [node.type]).filter((t) => t !== 'null');
  if (types.length !== 1) throw new Error(`${at}: type ${JSON.stringify(node.type)}`);
  switch (types[0]) {
    case 'string':
      return { kind: 'string' };
    case 'integer':
      return { kind: 'bigint' };
    case 'number':
      return { kind: 'double' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'array':
      if (node.items === undefined) throw new Error(`${at}: array without items`);
      return { kind: 'array', items: hiveTypeOf(node.items, root, `${at}[]`) };
    case 'object':
      return {
        kind: 'struct',
        fields: new Map(
          Object.entries(node.properties ?? {}).map(([name, child]) => [
            name,
            hiveTypeOf(child, root, `${at}.${name}`),
          ]),
        ),
      };
    default:
      throw new Error(`${at}: unsupported type ${String(types[0])}`);
  }
}

/** `data.window.to → string`, `data.members → array<bigint>`: every leaf with its type. */
function leaves(fields: ReadonlyMap<string, HiveType>, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, type] of fields) {
    const path = `${prefix}${name}`;
    if (type.kind === 'struct') {
      for (const [p, t] of leaves(type.fields, `${path}.`)) out.set(p, t);
    } else {
      out.set(path, render(type));
    }
  }
  return out;
}

function render(type: HiveType): string {
  if (type.kind === 'array') return `array<${render(type.items)}>`;
  if (type.kind === 'struct') {
    return `struct<${[...type.fields].map(([n, t]) => `${n}:${render(t)}`).join(',')}>`;
  }
  return type.kind;
}

describe('the archive table (docs/archive.md)', () => {
  const columns = parseTableColumns(archiveSql('ddl'));
  const ddl = leaves(columns);

  it('has every field of every event schema, with a type that reads it', () => {
    // Prepare: the union of the five schemas' fields, each with the type it needs
    const needed = new Map<string, { type: string; schemas: string[] }>();
    for (const type of Object.values(EventTypes)) {
      const schema = schemaFor(type);
      const table = hiveTypeOf(schema as SchemaNode, schema, type);
      if (table.kind !== 'struct') throw new Error(`${type}: not an object`);
      for (const [path, leafType] of leaves(table.fields)) {
        const seen = needed.get(path);
        if (seen !== undefined && seen.type !== leafType) {
          throw new Error(`${path} is ${seen.type} in ${seen.schemas} but ${leafType} in ${type}`);
        }
        needed.set(path, { type: leafType, schemas: [...(seen?.schemas ?? []), type] });
      }
    }

    // Assess: no field left out, none with a type that would not read it
    const missing = [...needed]
      .filter(([path, { type }]) => ddl.get(path) !== type)
      .map(([path, { type }]) => `${path} ${type} (DDL: ${ddl.get(path) ?? 'missing'})`);
    expect(missing).toEqual([]);
    // … and nothing in the DDL that no schema has
    expect([...ddl.keys()].filter((path) => !needed.has(path))).toEqual([]);
    // The fields "membership as of T" needs, which an earlier DDL left out
    for (const path of ['data.members', 'data.parts', 'data.membersHash', 'data.reason']) {
      expect(ddl.has(path), path).toBe(true);
    }
  });

  it('is partitioned by the delivery date folders Firehose writes', () => {
    const ddlText = archiveSql('ddl');
    expect(ddlText).toContain('PARTITIONED BY (year string, month string, day string)');
    const template = /'storage\.location\.template' = 's3:\/\/<archive bucket>\/([^']+)'/.exec(
      ddlText,
    )?.[1];
    expect(
      template
        ?.replace(/\$\{year\}/, '!{timestamp:yyyy}')
        .replace(/\$\{month\}/, '!{timestamp:MM}')
        .replace(/\$\{day\}/, '!{timestamp:dd}'),
    ).toBe(ARCHIVE_DATA_PREFIX);
  });
});
