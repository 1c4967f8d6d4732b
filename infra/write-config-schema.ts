import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from '../functions/config/config-schema.js';

/**
 * JSON Schema of the config for editors (VS Code: `json.schemas`), generated from the zod schema.
 * Input mode: fields with defaults are optional, as they are in the file. Refinements (rate/cron
 * syntax, time zones, unique portal ids) are enforced by `parseConfig` only.
 */
export function configJsonSchema(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'Bitrix24 chat membership sync config' }, null, 2)}\n`;
}

export const CONFIG_SCHEMA_PATH = fileURLToPath(
  new URL('../config/config.schema.json', import.meta.url),
);

// `npx tsx infra/write-config-schema.ts`
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CONFIG_SCHEMA_PATH, configJsonSchema());
  console.log(`wrote ${CONFIG_SCHEMA_PATH}`);
}
