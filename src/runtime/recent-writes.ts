// What this process wrote last, per object, and which cached version the write was based on.
// A reconcile that runs before the watch has delivered its own last write sees the old object
// in the cache and would send the same write again: a PATCH that changes nothing. As long as
// the cache still holds that old version, the same content is known to be written already
// (for a while: past ttlMs the cache is trusted again, so a lost watch event cannot hide a
// child deleted meanwhile for good).
export class RecentWrites {
  private readonly writes = new Map<string, { basis: string; fingerprint: string; at: number }>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly max = 50_000,
  ) {}

  /** True when `fingerprint` was written on top of the cached version `basis` ("" = not cached), which the cache still holds. */
  written(key: string, basis: string | undefined, fingerprint: string, now = Date.now()): boolean {
    const w = this.writes.get(key);
    return !!w && w.basis === (basis ?? "") && w.fingerprint === fingerprint && now - w.at < this.ttlMs;
  }

  remember(key: string, basis: string | undefined, fingerprint: string, now = Date.now()): void {
    if (this.writes.size >= this.max) this.writes.delete(this.writes.keys().next().value as string);
    this.writes.delete(key); // re-inserted last: the map's order is the order of writes
    this.writes.set(key, { basis: basis ?? "", fingerprint, at: now });
  }

  forget(key: string): void {
    this.writes.delete(key);
  }

  get size(): number {
    return this.writes.size;
  }
}
