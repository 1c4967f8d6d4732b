import type { SimClock } from './bitrix-time.js';

/**
 * The portal's request bucket (docs/bitrix24-rate-limits.md): +1 per HTTP request (a whole `batch` is one), drained at
 * `drainPerSecond` of portal time; a request that would take it past `burst` is refused with
 * 503 QUERY_LIMIT_EXCEEDED and does not fill it further.
 *
 * The bucket is shared by every integration on the portal, so it can carry a competing
 * load: other integrations' requests, evenly spaced at `perSecond` of portal time. They always
 * get in (as a client retrying until it does would, sooner or later): while they outrun the
 * drain, the counter rises past the burst and every request of ours is refused until it falls
 * below again. Added as time passes, before each of our requests is counted.
 */
export class LeakyBucket {
  private level = 0;
  private lastMs: number;
  private loadPerSecond = 0;
  /** Real ms of the next competing request. */
  private nextLoadMs = 0;

  constructor(
    readonly burst: number,
    readonly drainPerSecond: number,
    private readonly clock: SimClock,
    /** Called for each competing request as it is counted. */
    private readonly onCompetingRequest: () => void = () => {},
  ) {
    this.lastMs = clock.nowMs();
  }

  tryAdd(): boolean {
    this.advance(this.clock.nowMs());
    if (this.level + 1 > this.burst) return false;
    this.level += 1;
    return true;
  }

  /** Other integrations' requests per portal second from now on (0: none). */
  setCompetingLoad(perSecond: number): void {
    if (!(perSecond >= 0) || !Number.isFinite(perSecond)) {
      throw new RangeError(`competing load must be a finite number >= 0, got ${perSecond}`);
    }
    const now = this.clock.nowMs();
    this.advance(now);
    this.loadPerSecond = perSecond;
    this.nextLoadMs = now;
  }

  /** Counts the competing requests due by now (before their count is read). */
  settle(): void {
    this.advance(this.clock.nowMs());
  }

  private advance(now: number): void {
    if (this.loadPerSecond > 0) {
      const interval = this.clock.realMs(1) / this.loadPerSecond;
      while (this.nextLoadMs <= now) {
        this.drainTo(this.nextLoadMs);
        this.level += 1;
        this.onCompetingRequest();
        this.nextLoadMs += interval;
      }
    }
    this.drainTo(now);
  }

  private drainTo(ms: number): void {
    if (ms <= this.lastMs) return;
    const drained = ((ms - this.lastMs) / this.clock.realMs(1)) * this.drainPerSecond;
    this.level = Math.max(0, this.level - drained);
    this.lastMs = ms;
  }
}
