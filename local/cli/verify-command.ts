import { verifyStream } from '../../functions/consumer/verify-stream.js';
import { type ArchiveFlags, readEventsFrom } from './archive-source.js';

export interface VerifyFlags extends ArchiveFlags {
  readonly json?: boolean;
}

/**
 * `membership-sync verify`: checks every chat's chain and sequences in an events file or the S3
 * archive (`functions/consumer/verify-stream.ts`). Exit 0 when the stream is complete and
 * unaltered; 1 naming each chat and sequence where something is missing, duplicated with other
 * content, reordered or altered; 2 when an archive object could not be read.
 */
export async function verifyCommand(flags: VerifyFlags): Promise<number> {
  const contents = await readEventsFrom(flags);
  const result = verifyStream(contents.events);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ...result, ok: result.problems.length === 0 })}\n`);
  } else {
    for (const p of result.problems) {
      process.stdout.write(
        `chat ${p.chatId} (${p.source}) sequence ${p.sequence}: ${p.kind}: ${p.detail}${p.eventId ? ` [${p.eventId}]` : ''}\n`,
      );
    }
    const verdict =
      result.problems.length === 0
        ? 'complete and unaltered'
        : `${result.problems.length} problem(s) in ${new Set(result.problems.map((p) => `${p.source}\n${p.chatId}`)).size} chat(s)`;
    process.stdout.write(`${result.events} events of ${result.chats} chats: ${verdict}\n`);
  }
  if (contents.unreadable.length > 0) return 2;
  return result.problems.length === 0 ? 0 : 1;
}
