import { expect } from "chai";
import { RecentWrites } from "../../../src/runtime/recent-writes.ts";

describe("RecentWrites", () => {
  it("knows a write while the cache still holds the version it was based on", () => {
    const r = new RecentWrites(60_000);
    r.remember("deployments/ns/a", "7", "h1", 1000);
    expect(r.written("deployments/ns/a", "7", "h1", 2000)).to.equal(true);
    // The cache caught up (or someone else wrote): trust the cache again.
    expect(r.written("deployments/ns/a", "8", "h1", 2000)).to.equal(false);
    // Different content: a real write.
    expect(r.written("deployments/ns/a", "7", "h2", 2000)).to.equal(false);
    expect(r.written("deployments/ns/b", "7", "h1", 2000)).to.equal(false);
  });

  it("treats an object not yet cached as basis '' and forgets after ttlMs", () => {
    const r = new RecentWrites(5_000);
    r.remember("services/ns/a", undefined, "h", 0);
    expect(r.written("services/ns/a", undefined, "h", 4_999)).to.equal(true);
    expect(r.written("services/ns/a", "", "h", 4_999)).to.equal(true);
    expect(r.written("services/ns/a", undefined, "h", 5_000)).to.equal(false);
  });

  it("holds at most max entries, dropping the oldest write", () => {
    const r = new RecentWrites(60_000, 2);
    r.remember("a", "1", "x", 0);
    r.remember("b", "1", "x", 0);
    r.remember("a", "2", "y", 1); // rewritten: now the newest
    r.remember("c", "1", "x", 2);
    expect(r.size).to.equal(2);
    expect(r.written("b", "1", "x", 3)).to.equal(false);
    expect(r.written("a", "2", "y", 3)).to.equal(true);
    expect(r.written("c", "1", "x", 3)).to.equal(true);
  });
});
