import { writeFile } from 'node:fs/promises';
import { createReferenceConsumer } from '../../../functions/consumer/reference-consumer.js';
import { type ArchiveFlags, chatIdOf, parsePastTime, readEventsFrom } from '../archive-source.js';
import { pickSource } from '../history-command.js';
import { UsageError } from '../resolve-run-config.js';
import { membershipReport } from './membership-report.js';
import { reportHtml } from './report-html.js';

export interface ReportFlags extends ArchiveFlags {
  readonly chat: number;
  readonly out: string;
  readonly fromTime?: string;
  readonly toTime?: string;
  readonly portal?: string;
}

/**
 * `membership-sync report`: a chat's membership over time as one self-contained HTML file
 * (docs/cli.md). Exit 0; 1 when an event is missing (the picture may be incomplete, said on
 * stderr); 2 for bad input or an unreadable archive object.
 */
export async function reportCommand(flags: ReportFlags): Promise<number> {
  const now = new Date();
  const to = flags.toTime === undefined ? now : parsePastTime('--to-time', flags.toTime, now);
  const from =
    flags.fromTime === undefined ? undefined : parsePastTime('--from-time', flags.fromTime, now);
  if (from && from >= to) throw new UsageError('--from-time must be before --to-time');
  const contents = await readEventsFrom(flags, { keep: (e) => chatIdOf(e) === flags.chat });
  const source = pickSource(contents.events, flags);
  const consumer = createReferenceConsumer();
  for (const event of contents.events) if (event.source === source) consumer.apply(event);
  const report = membershipReport(consumer.timeline(source, flags.chat), {
    ...(from ? { from: from.getTime() } : {}),
    to: to.getTime(),
  });
  await writeFile(flags.out, reportHtml(report, { source, chatId: flags.chat, generatedAt: now }));
  process.stderr.write(`wrote ${flags.out}: ${report.rows.length} users\n`);
  const buffered = [...consumer.chats()].find((c) => c.source === source)?.buffered ?? 0;
  if (buffered > 0) {
    process.stderr.write(
      `membership-sync: warning: an event is missing before ${buffered} later one(s): the picture stops there\n`,
    );
  }
  if (contents.unreadable.length > 0) return 2;
  return buffered > 0 ? 1 : 0;
}
