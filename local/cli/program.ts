import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_STATE_DIR } from '../runtime/local-environment.js';
import {
  releaseCommand,
  simulatorCommand,
  statusCommand,
  syncCommand,
  watchCommand,
} from './commands.js';
import { demoCommand } from './demo.js';
import { EXPORT_FORMATS, exportCommand } from './export-command.js';
import { historyCommand } from './history-command.js';
import { ocsfCommand } from './ocsf-command.js';
import { replayCommand, TOPIC_KINDS } from './replay-command.js';
import { reportCommand } from './report/report-command.js';
import { parseChatId } from './resolve-run-config.js';
import { verifyCommand } from './verify-command.js';

function positiveInt(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new InvalidArgumentError(`${flag} must be a positive integer`);
    }
    return n;
  };
}

const stateOptions = (command: Command) =>
  command
    .option('--state-dir <dir>', 'embedded DynamoDB state folder', DEFAULT_STATE_DIR)
    .option('--dynamodb-endpoint <url>', 'use this DynamoDB endpoint instead of the embedded one')
    .option(
      '--table <name>',
      "an existing snapshot table, e.g. the stack's TableName output (in AWS with your credentials, or at --dynamodb-endpoint)",
    );

const sourceOptions = (command: Command) =>
  command
    .option('--config <file>', 'config file (webhook URLs from BITRIX24_WEBHOOK_<PORTAL_ID>)')
    .option('--webhook <url>', 'incoming-webhook URL https://<portal>/rest/<user>/<code>/')
    .option('--chat <id>', 'chat ID to sync (repeatable)', parseChatId, []);

const syncOptions = (command: Command) =>
  stateOptions(sourceOptions(command))
    .option('--events <file>', 'append events as JSON lines to FILE (default: stdout)')
    .option('--sns-topic-arn <arn>', 'publish events to this SNS topic instead')
    .option('--sns-endpoint <url>', 'SNS endpoint (an emulator) for --sns-topic-arn')
    .option('--ca-file <pem>', "trust this CA for the portal (the simulator's certificate)")
    .addOption(
      new Option(
        '--reads <mode>',
        'hinted: read the chats the recent list names plus a rolling reconcile slice; full: every chat every run (default: the config, else hinted)',
      ).choices(['hinted', 'full']),
    )
    .option(
      '--reconcile-minutes <n>',
      'hinted reads: re-read every chat at least this often (default 60)',
      positiveInt('--reconcile-minutes'),
    )
    .option('--full', 'read every chat in this run (hinted reads: a full reconcile)')
    .option('--verbose', 'log to stderr');

/** The `membership-sync` command line, built without running it (the docs checks read its options). */
export function buildProgram(): Command {
  const program = new Command('membership-sync')
    .description(
      'Sync Bitrix24 chat membership: diff participant lists, publish join/leave events.',
    )
    .showHelpAfterError()
    // Before the subcommands are added: they inherit it. Usage mistakes exit 2 like ours below
    // (commander's own code is 1, which `sync` uses for "some chat did not sync").
    .exitOverride();

  syncOptions(program.command('sync').description('run one sync of every configured chat')).action(
    async (flags) => {
      process.exitCode = await syncCommand(flags);
    },
  );

  syncOptions(program.command('watch').description('sync repeatedly until interrupted'))
    .requiredOption('--every <seconds>', 'seconds between runs', positiveInt('--every'))
    .action(async (flags) => {
      process.exitCode = await watchCommand(flags);
    });

  stateOptions(sourceOptions(program.command('status').description('show the stored snapshots')))
    .option('--portal <id>', 'portal id (default: from --config or --webhook)')
    .option('--json', 'one JSON object per chat')
    .option(
      '--secrets',
      "with --config: read each portal's secret (your AWS credentials) and report it ready, awaiting credentials or unreadable; never prints a value",
    )
    .option(
      '--secrets-manager-endpoint <url>',
      'Secrets Manager endpoint (an emulator) for --secrets',
    )
    .action(async (flags) => {
      process.exitCode = await statusCommand(flags);
    });

  stateOptions(
    program
      .command('release')
      .description("apply a chat's held mass change on its next sync")
      .requiredOption(
        '--chat <id>',
        'the chat whose held change to release',
        positiveInt('--chat'),
      ),
  )
    .option('--portal <id>', 'portal id (default: from --config or --webhook)')
    .option('--config <file>', 'config file naming the portal')
    .option('--webhook <url>', 'incoming-webhook URL naming the portal')
    .action(async ({ chat, ...flags }) => {
      process.exitCode = await releaseCommand({ ...flags, releaseChat: chat });
    });

  stateOptions(
    program
      .command('export')
      .description(
        'the current membership of every chat of a portal, one line per chat: load it, then apply only events with a higher data.sequence',
      ),
  )
    .option('--portal <id>', 'portal id (default: from --config or --webhook)')
    .option('--config <file>', 'config file naming the portal(s)')
    .option('--webhook <url>', 'incoming-webhook URL naming the portal')
    .addOption(
      new Option('--format <format>', 'output format').choices(EXPORT_FORMATS).default('jsonl'),
    )
    .action(async (flags) => {
      process.exitCode = await exportCommand(flags);
    });

  const archiveOptions = (command: Command) =>
    command
      .requiredOption(
        '--from <file|s3://bucket/prefix>',
        'events: a JSON-lines file (sync --events) or the S3 archive prefix',
      )
      .option('--s3-endpoint <url>', 'S3 endpoint (an emulator) for an s3:// --from');

  archiveOptions(
    program
      .command('history')
      .description("a chat's members at a time, since when, and its joins and leaves")
      .requiredOption('--chat <id>', 'the chat', positiveInt('--chat')),
  )
    .option('--at <time>', 'ISO 8601 time (default: now)')
    .option('--portal <url|id>', 'the portal, when the archive has the chat ID on several')
    .option('--json', 'one JSON object')
    .action(async (flags) => {
      process.exitCode = await historyCommand(flags);
    });

  archiveOptions(
    program
      .command('verify')
      .description(
        "check every chat's event chain and sequences: nothing missing, duplicated with other content, reordered or altered",
      ),
  )
    .option('--json', 'one JSON object')
    .action(async (flags) => {
      process.exitCode = await verifyCommand(flags);
    });

  archiveOptions(
    program
      .command('report')
      .description("a chat's membership over time as one self-contained HTML page")
      .requiredOption('--chat <id>', 'the chat', positiveInt('--chat'))
      .requiredOption('--out <file.html>', 'where to write the page'),
  )
    .option('--from-time <time>', 'ISO 8601 start (default: the first event)')
    .option('--to-time <time>', 'ISO 8601 end (default: now)')
    .option('--portal <url|id>', 'the portal, when the archive has the chat ID on several')
    .action(async (flags) => {
      process.exitCode = await reportCommand(flags);
    });

  archiveOptions(
    program
      .command('ocsf')
      .description(
        'the joins, leaves and baselines as OCSF 1.2 Group Management events (JSON lines)',
      ),
  )
    .option('--chat <id>', 'only this chat', positiveInt('--chat'))
    .action(async (flags) => {
      process.exitCode = await ocsfCommand(flags);
    });

  archiveOptions(
    program
      .command('replay')
      .description('re-publish archived events unchanged (same IDs) to an SNS topic')
      .requiredOption('--sns-topic-arn <arn>', 'the topic to publish to'),
  )
    .option('--sns-endpoint <url>', 'SNS endpoint (an emulator)')
    .option('--since <time>', 'only events observed at or after this ISO 8601 time')
    .option('--chat <id>', 'only this chat', positiveInt('--chat'))
    .addOption(
      new Option('--rate <n>', 'events per second').argParser(positiveInt('--rate')).default(100),
    )
    .addOption(
      new Option('--topic-kind <kind>', 'the topic kind you mean (default: from the ARN)').choices(
        TOPIC_KINDS,
      ),
    )
    .action(async (flags) => {
      process.exitCode = await replayCommand(flags);
    });

  program
    .command('simulator')
    .description(
      'start the Bitrix24 portal simulator with the demo portal and print its webhook URL',
    )
    .option('--port <port>', 'listen on this port', positiveInt('--port'))
    .option('--http', 'plain HTTP instead of HTTPS')
    .option('--no-rate-limit', 'switch the leaky bucket off')
    .option(
      '--competing-load <perSecond>',
      "other integrations' requests per second in the same bucket (default 0)",
      (value: string) => {
        const n = Number(value);
        if (!(n >= 0) || !Number.isFinite(n)) {
          throw new InvalidArgumentError('--competing-load must be a number >= 0');
        }
        return n;
      },
    )
    .option('--state-dir <dir>', 'where the certificate is written', DEFAULT_STATE_DIR)
    .action(async (flags) => {
      process.exitCode = await simulatorCommand(flags);
    });

  program
    .command('demo')
    .description('simulated portal + embedded AWS: planner → queue → worker → SNS, events printed')
    .addOption(
      new Option('--every <seconds>', 'seconds between schedule ticks')
        .argParser(positiveInt('--every'))
        .default(5),
    )
    .option('--ticks <n>', 'stop after N ticks (default: until Ctrl-C)', positiveInt('--ticks'))
    .action(async (flags) => {
      process.exitCode = await demoCommand(flags);
    });
  return program;
}
