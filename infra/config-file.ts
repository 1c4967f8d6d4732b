import { existsSync, readFileSync } from 'node:fs';
import { type Config, ConfigError, parseConfig } from '../functions/config/config-schema.js';

/** The operator's config: deploy with it by default, or name another with `-c config=…`. */
export const DEFAULT_CONFIG_PATH = 'config/membership-sync.json';
/** Used only when no config was named and the default file is absent (a fresh clone, CI). */
export const EXAMPLE_CONFIG_PATH = 'config/example.json';

export interface ResolvedConfig {
  readonly path: string;
  readonly config: Config;
  /** True when neither `-c config=…` nor the default file was there and the example was used. */
  readonly usedExample: boolean;
}

/**
 * Resolves and validates the config. A path given explicitly must exist (falling back would
 * deploy something the operator did not ask for); only the implicit default falls back to the
 * example. Invalid JSON or an invalid field fails with the file and the field named.
 */
export function loadConfig(
  explicitPath: unknown,
  exists: (path: string) => boolean = existsSync,
): ResolvedConfig {
  if (explicitPath !== undefined) {
    if (typeof explicitPath !== 'string' || explicitPath === '') {
      throw new ConfigError([{ path: '(context config)', message: 'must be a file path' }], 'cdk');
    }
    return { path: explicitPath, config: readConfigFile(explicitPath), usedExample: false };
  }
  const path = exists(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : EXAMPLE_CONFIG_PATH;
  return { path, config: readConfigFile(path), usedExample: path === EXAMPLE_CONFIG_PATH };
}

export function readConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    throw new ConfigError([{ path: '(file)', message: reason }], path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      [{ path: '(root)', message: `not valid JSON: ${(error as Error).message}` }],
      path,
    );
  }
  return parseConfig(json, path);
}
