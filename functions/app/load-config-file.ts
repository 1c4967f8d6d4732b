import { readFileSync } from 'node:fs';
import { type Config, parseConfig } from '../config/config-schema.js';

/** Reads and validates the bundled config; an invalid file fails the cold start naming the field. */
export function loadConfigFile(path: string): Config {
  return parseConfig(JSON.parse(readFileSync(path, 'utf8')), path);
}
