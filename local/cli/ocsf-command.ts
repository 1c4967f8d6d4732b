import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { toOcsf } from '../../functions/consumer/ocsf.js';
import { type ArchiveFlags, chatIdOf, readEventsFrom } from './archive-source.js';

export interface OcsfFlags extends ArchiveFlags {
  readonly chat?: number;
}

const PACKAGE = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { name: string; version: string };

/**
 * `membership-sync ocsf`: the archived joins, leaves and baselines as OCSF Group Management
 * events, one JSON line each, in sequence order per chat (docs/archive.md, "To a SIEM").
 * Exit 0; 2 when an archive object could not be read (the rest is still converted).
 */
export async function ocsfCommand(flags: OcsfFlags): Promise<number> {
  const contents = await readEventsFrom(
    flags,
    flags.chat === undefined ? {} : { keep: (e) => chatIdOf(e) === flags.chat },
  );
  const product = {
    name: 'Bitrix24 chat membership sync',
    vendorName: PACKAGE.name,
    version: PACKAGE.version,
  };
  const seen = new Set<string>();
  const ordered = contents.events
    .filter((e) => !seen.has(`${e.source}\n${e.id}`) && seen.add(`${e.source}\n${e.id}`))
    .sort((a, b) => {
      const x = a.data as { chatId: number; sequence: number };
      const y = b.data as { chatId: number; sequence: number };
      return a.source.localeCompare(b.source) || x.chatId - y.chatId || x.sequence - y.sequence;
    });
  for (const event of ordered) {
    for (const line of toOcsf(event, product)) {
      if (!process.stdout.write(`${JSON.stringify(line)}\n`)) await once(process.stdout, 'drain');
    }
  }
  return contents.unreadable.length > 0 ? 2 : 0;
}
