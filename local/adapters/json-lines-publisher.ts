import type { Writable } from 'node:stream';
import type { OutgoingEvent } from '../../functions/core/cloud-event.js';
import type { EventPublisher } from '../../functions/core/ports.js';

/**
 * Writes each event as one CloudEvents JSON line. Resolves after the stream accepted every line,
 * which is as close to "acknowledged" as a local sink gets (the core saves snapshots only after).
 */
export function createJsonLinesPublisher(out: Writable): EventPublisher & { published(): number } {
  let count = 0;
  return {
    published: () => count,
    async publish(events: readonly OutgoingEvent[]) {
      if (events.length === 0) return;
      const text = `${events.map((e) => JSON.stringify(e.event)).join('\n')}\n`;
      await new Promise<void>((resolve, reject) => {
        out.write(text, (error) => (error ? reject(error) : resolve()));
      });
      count += events.length;
    },
  };
}
