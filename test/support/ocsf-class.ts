import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The OCSF 1.2.0 Group Management class, assembled from the schema repository's own files
 * (`test/data/ocsf-1.2.0`, see its SOURCE.md) the way the OCSF server does: the base event and
 * its includes, the IAM category, the class; objects with the `_entity` they extend; types and
 * enums from the dictionary. `checkGroupManagement` lists what an event breaks.
 */
const DIR = fileURLToPath(new URL('../data/ocsf-1.2.0/', import.meta.url));
const read = (path: string) => JSON.parse(readFileSync(`${DIR}${path}`, 'utf8')) as Definition;

interface AttributeDef {
  readonly requirement?: string;
  readonly enum?: Record<string, unknown>;
  readonly type?: string;
  readonly is_array?: boolean;
}
interface Definition {
  readonly uid?: number;
  readonly extends?: string;
  readonly attributes: Record<string, AttributeDef | string[]>;
  readonly constraints?: { readonly at_least_one?: readonly string[] };
}

export const OCSF_VERSION = (read('version.json') as unknown as { version: string }).version;

const dictionary = read('dictionary.json').attributes as Record<string, AttributeDef>;

/** A definition's own attributes, with `$include`d files (profiles are left out). */
function attributesOf(def: Definition): Map<string, AttributeDef> {
  const out = new Map<string, AttributeDef>();
  for (const [name, value] of Object.entries(def.attributes)) {
    if (name === '$include') {
      for (const path of value as string[]) {
        if (path.startsWith('includes/')) {
          for (const [k, v] of attributesOf(read(path))) out.set(k, v);
        }
      }
    } else {
      out.set(name, value as AttributeDef);
    }
  }
  return out;
}

function merged(...defs: Definition[]): Map<string, AttributeDef> {
  const out = new Map<string, AttributeDef>();
  for (const def of defs) {
    for (const [k, v] of attributesOf(def)) out.set(k, { ...out.get(k), ...v });
  }
  return out;
}

const groupManagement = read('events/iam/group_management.json');
const categories = read('categories.json').attributes as unknown as Record<string, { uid: number }>;
export const GROUP_MANAGEMENT_CLASS_UID =
  (categories.iam?.uid ?? 0) * 1000 + (groupManagement.uid ?? 0);
const classAttributes = merged(
  read('events/base_event.json'),
  read('events/iam/iam.json'),
  groupManagement,
);

function objectDef(name: string): { attrs: Map<string, AttributeDef>; atLeastOne: string[] } {
  const def = read(`objects/${name}.json`);
  const base = def.extends === '_entity' ? read('objects/_entity.json') : undefined;
  return {
    attrs: base ? merged(base, def) : merged(def),
    atLeastOne: [...(def.constraints?.at_least_one ?? base?.constraints?.at_least_one ?? [])],
  };
}

const DERIVED = new Set(['class_uid', 'category_uid', 'type_uid']);

const SCALAR: Record<string, (v: unknown) => boolean> = {
  integer_t: Number.isInteger,
  long_t: Number.isInteger,
  timestamp_t: (v) => Number.isInteger(v) && (v as number) > 0,
  string_t: (v) => typeof v === 'string',
  boolean_t: (v) => typeof v === 'boolean',
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
};

function checkObject(
  value: Record<string, unknown>,
  attrs: Map<string, AttributeDef>,
  atLeastOne: readonly string[],
  path: string,
  problems: string[],
): void {
  for (const [name, def] of attrs) {
    if (def.requirement === 'required' && value[name] === undefined) {
      problems.push(`${path}${name}: required`);
    }
  }
  if (atLeastOne.length > 0 && !atLeastOne.some((n) => value[n] !== undefined)) {
    problems.push(`${path}: needs one of ${atLeastOne.join(', ')}`);
  }
  for (const [name, v] of Object.entries(value)) {
    const own = attrs.get(name);
    if (!own) {
      problems.push(`${path}${name}: not an attribute here`);
      continue;
    }
    const dict = dictionary[name] ?? {};
    const type = dict.type ?? 'object';
    const values = dict.is_array ? (Array.isArray(v) ? v : [Symbol('not an array')]) : [v];
    for (const item of values) {
      const scalar = SCALAR[type];
      if (scalar) {
        if (!scalar(item)) problems.push(`${path}${name}: not a ${type}`);
      } else {
        const nested = objectDef(type);
        checkObject(
          item as Record<string, unknown>,
          nested.attrs,
          nested.atLeastOne,
          `${path}${name}.`,
          problems,
        );
      }
    }
    // The dictionary lists only 0 for these; the server derives them per class (checked below).
    const allowed = DERIVED.has(name) ? undefined : (own.enum ?? dict.enum);
    if (allowed && !Object.hasOwn(allowed, String(v))) {
      problems.push(
        `${path}${name}: ${String(v)} is not one of ${Object.keys(allowed).join(', ')}`,
      );
    }
  }
}

/** What an event breaks of the Group Management class; empty when it is a valid one. */
export function checkGroupManagement(event: Record<string, unknown>): string[] {
  const problems: string[] = [];
  checkObject(event, classAttributes, [], '', problems);
  if (event.class_uid !== GROUP_MANAGEMENT_CLASS_UID) problems.push('class_uid: not 3006');
  if (event.category_uid !== categories.iam?.uid) problems.push('category_uid: not IAM');
  if (event.type_uid !== (event.class_uid as number) * 100 + (event.activity_id as number)) {
    problems.push('type_uid: not class_uid × 100 + activity_id');
  }
  return problems;
}
