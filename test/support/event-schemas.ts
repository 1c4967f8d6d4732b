import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { dataschemaOf, type EventType } from '../../functions/core/cloud-event.js';

const SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

interface EventSchema {
  readonly $id: string;
  readonly properties: { readonly type: { readonly const: string } };
}

/** Every `schemas/*.json`, compiled once per test file, keyed by the event type it describes. */
const validators: ReadonlyMap<string, ValidateFunction> = (() => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  // ajv-formats is CommonJS: under NodeNext its default import is the module; `.default` is the plugin.
  ajvFormats.default(ajv);
  const byType = new Map<string, ValidateFunction>();
  for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json'))) {
    const schema = JSON.parse(readFileSync(`${SCHEMA_DIR}${file}`, 'utf8')) as EventSchema;
    byType.set(schema.properties.type.const, ajv.compile(schema));
  }
  return byType;
})();

/** The event types that have a schema file. */
export function schemaTypes(): string[] {
  return [...validators.keys()];
}

/** The parsed schema file for an event type (e.g. to check `$id` against `dataschema`). */
export function schemaFor(type: EventType): EventSchema & Record<string, unknown> {
  const validate = validators.get(type);
  if (validate === undefined) throw new Error(`no schema for event type ${type}`);
  return validate.schema as EventSchema & Record<string, unknown>;
}

/**
 * Asserts that a CloudEvent (as published: its JSON form) is valid against the schema of its
 * `type` and points at that schema with `dataschema`. Throws with every ajv error otherwise.
 */
export function validateEvent(event: unknown): void {
  const json: unknown = JSON.parse(JSON.stringify(event));
  const type = (json as { type?: unknown } | null)?.type;
  const validate = typeof type === 'string' ? validators.get(type) : undefined;
  if (validate === undefined) throw new Error(`no schema for event type ${String(type)}`);
  if (!validate(json)) {
    const errors = (validate.errors ?? [])
      .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
      .join('\n  ');
    throw new Error(`event of type ${type} does not match its schema:\n  ${errors}`);
  }
  const expected = dataschemaOf(type as EventType);
  if ((json as { dataschema?: unknown }).dataschema !== expected) {
    throw new Error(`event of type ${type} has dataschema other than ${expected}`);
  }
}
