import type { SimClock } from './bitrix-time.js';

/**
 * The portal's request bucket (§7): +1 per HTTP request (a whole `batch` is one), drained at
 * `drainPerSecond` of portal time; a request that would take it past `burst` is refused with
 * 503 QUERY_LIMIT_EXCEEDED and does not fill it further.
 */
export class LeakyBucket {
  private level = 0;
  private lastMs: number;

  constructor(
    readonly burst: number,
    readonly drainPerSecond: number,
    private readonly clock: SimClock,
  ) {
    this.lastMs = clock.nowMs();
  }

  tryAdd(): boolean {
    const now = this.clock.nowMs();
    const drained = ((now - this.lastMs) / this.clock.realMs(1)) * this.drainPerSecond;
    this.level = Math.max(0, this.level - drained);
    this.lastMs = now;
    if (this.level + 1 > this.burst) return false;
    this.level += 1;
    return true;
  }
}
