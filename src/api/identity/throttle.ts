// Throttling of wrong passwords, per account and per client address: after `limit` failures
// within `windowMs`, further attempts are refused (429) until the window has passed. State is
// per replica and in memory on purpose: it only slows guessing down, it holds nothing a
// restart must keep.
import { ApiError } from "../errors.ts";

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws 429 when any of keys has used up its failures. */
  check(keys: string[]): void {
    for (const key of keys) {
      const recent = this.recent(key);
      if (recent.length >= this.limit) {
        const retry = Math.ceil((recent[0]! + this.windowMs - this.now()) / 1000);
        throw new ApiError(429, `Too many failed login attempts; try again in ${retry} s.`);
      }
    }
  }

  failed(keys: string[]): void {
    for (const key of keys) this.failures.set(key, [...this.recent(key), this.now()]);
    if (this.failures.size > 100_000) this.prune();
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }

  private prune(): void {
    for (const key of [...this.failures.keys()]) if (!this.recent(key).length) this.failures.delete(key);
  }
}
