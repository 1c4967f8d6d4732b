import { SingleBar } from 'cli-progress';
import type { SyncReport } from '../../functions/core/sync-report.js';
import type { RunProgress } from '../runtime/local-run.js';

/**
 * A bar on a terminal; plain lines otherwise (CI logs, pipes), never both. Progress goes to
 * stderr: stdout carries the events.
 */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): RunProgress {
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format:
        'syncing {bar} {value}/{total} chats | {events} events | {requests} Bitrix24 requests',
      hideCursor: true,
      clearOnComplete: true,
    });
    let events = 0;
    let requests = 0;
    return {
      start: (total) => bar.start(total, 0, { events, requests }),
      advance(chats, report: SyncReport) {
        events += report.totals.events;
        requests += report.bitrix24Requests;
        bar.increment(chats, { events, requests });
      },
      stop: () => bar.stop(),
    };
  }
  let done = 0;
  let total = 0;
  return {
    start(chats) {
      total = chats;
    },
    advance(chats, report) {
      done += chats;
      if (total > 50) {
        stream.write(
          `synced ${done}/${total} chats (${report.portalId}: ${report.totals.events} events, ${report.bitrix24Requests} requests)\n`,
        );
      }
    },
    stop() {},
  };
}
