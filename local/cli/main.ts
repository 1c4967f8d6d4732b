import { CommanderError } from 'commander';
import { ConfigError } from '../../functions/config/config-schema.js';
import { EventArchiveError } from '../adapters/event-archive.js';
import { LocalSetupError } from '../runtime/local-environment.js';
import { buildProgram } from './program.js';
import { UsageError } from './resolve-run-config.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const program = buildProgram();

try {
  await program.parseAsync();
} catch (error) {
  if (
    error instanceof UsageError ||
    error instanceof ConfigError ||
    error instanceof LocalSetupError ||
    error instanceof EventArchiveError
  ) {
    process.stderr.write(`membership-sync: ${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof CommanderError) {
    // commander printed the message (and help) already; --help and --version end here with 0.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    throw error;
  }
}
