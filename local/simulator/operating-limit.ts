import type { OperatingInfo, SimClock } from './bitrix-time.js';

interface Basket {
  readonly openedAtMs: number;
  seconds: number;
}

export interface OperatingLimitSettings {
  readonly limitSeconds: number;
  readonly windowSeconds?: number;
  readonly costSeconds?: number;
}

/**
 * The per-method operating budget (docs/bitrix24.md §7): execution time summed in ten baskets of a
 * tenth of the window each; a basket lives one window from its first call. Checked before each
 * call: the call that crosses the limit completes, the next one is refused (429) for that method
 * only, until the oldest basket drops. Calls are charged a fixed simulated `costSeconds`.
 */
export class OperatingLimiter {
  private readonly baskets = new Map<string, Basket[]>();
  private readonly windowMs: number;
  private readonly basketMs: number;
  readonly costSeconds: number;

  constructor(
    private readonly settings: OperatingLimitSettings,
    private readonly clock: SimClock,
  ) {
    this.windowMs = clock.realMs(settings.windowSeconds ?? 600);
    this.basketMs = this.windowMs / 10;
    this.costSeconds = settings.costSeconds ?? 1;
  }

  isBlocked(key: string): boolean {
    return this.used(key) >= this.settings.limitSeconds;
  }

  charge(key: string, seconds = this.costSeconds): void {
    const now = this.clock.nowMs();
    const baskets = this.live(key, now);
    const current = baskets[baskets.length - 1];
    if (current && now < current.openedAtMs + this.basketMs) current.seconds += seconds;
    else baskets.push({ openedAtMs: now, seconds });
  }

  /** `time.operating` and, when a basket exists, `time.operating_reset_at` (unix seconds). */
  report(key: string): OperatingInfo {
    const baskets = this.live(key, this.clock.nowMs());
    const oldest = baskets[0];
    const operating = this.used(key);
    return oldest
      ? { operating, operatingResetAt: Math.ceil((oldest.openedAtMs + this.windowMs) / 1000) }
      : { operating };
  }

  private used(key: string): number {
    let total = 0;
    for (const basket of this.live(key, this.clock.nowMs())) total += basket.seconds;
    return total;
  }

  private live(key: string, now: number): Basket[] {
    let baskets = this.baskets.get(key);
    if (!baskets) {
      baskets = [];
      this.baskets.set(key, baskets);
    }
    while (baskets.length > 0 && now >= (baskets[0]?.openedAtMs ?? 0) + this.windowMs) {
      baskets.shift();
    }
    return baskets;
  }
}
