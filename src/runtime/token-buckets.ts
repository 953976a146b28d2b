// Per-key token buckets (burst tokens, one back every refillEveryMs) that forget keys whose bucket
// has refilled: a full bucket is the same as none, so the map holds only keys active lately and
// does not grow with every object ever seen.

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private sweptAt = 0;

  constructor(
    private readonly burst: number,
    private readonly refillEveryMs: number,
  ) {}

  /** Takes a token for key at time now (ms); false when its bucket is empty. */
  take(key: string, now: number): boolean {
    this.sweep(now);
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    const refill = Math.floor((now - b.at) / this.refillEveryMs);
    if (refill > 0) {
      b.tokens = Math.min(this.burst, b.tokens + refill);
      b.at += refill * this.refillEveryMs;
    }
    this.buckets.set(key, b);
    if (b.tokens <= 0) return false;
    b.tokens--;
    return true;
  }

  /** Keys held (those not refilled yet). */
  get size(): number {
    return this.buckets.size;
  }

  /** At most once per refill period: drops the buckets that are full again by now. */
  private sweep(now: number): void {
    if (now - this.sweptAt < this.refillEveryMs) return;
    this.sweptAt = now;
    for (const [key, b] of this.buckets) {
      if (b.tokens + Math.floor((now - b.at) / this.refillEveryMs) >= this.burst) this.buckets.delete(key);
    }
  }
}
