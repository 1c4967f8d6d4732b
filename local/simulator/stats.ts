import type { SimulatorStats } from './types.js';

/** Request counters behind `RunningSimulator.stats()`. */
export class StatsCounter {
  private requests = 0;
  private byMethod = new Map<string, number>();
  private rateLimited = 0;
  private operationLimited = 0;
  private competing = 0;

  request(method: string): void {
    this.requests++;
    this.count(method);
  }

  count(key: string): void {
    this.byMethod.set(key, (this.byMethod.get(key) ?? 0) + 1);
  }

  rateLimitedRequest(): void {
    this.rateLimited++;
  }

  operationLimitedRequest(): void {
    this.operationLimited++;
  }

  competingRequest(): void {
    this.competing++;
  }

  snapshot(): SimulatorStats {
    return {
      requests: this.requests,
      byMethod: Object.fromEntries(this.byMethod),
      rateLimited: this.rateLimited,
      operationLimited: this.operationLimited,
      competingRequests: this.competing,
    };
  }

  reset(): void {
    this.requests = 0;
    this.byMethod = new Map();
    this.rateLimited = 0;
    this.operationLimited = 0;
    this.competing = 0;
  }
}
