import { expect } from "chai";
import { TokenBuckets } from "../../../src/runtime/token-buckets.ts";

describe("TokenBuckets", () => {
  it("allows a burst per key, then one more per refill period", () => {
    const b = new TokenBuckets(3, 1000);
    expect([1, 2, 3, 4].map(() => b.take("a", 0))).to.deep.equal([true, true, true, false]);
    expect(b.take("b", 0)).to.equal(true); // other keys have their own bucket
    expect(b.take("a", 999)).to.equal(false);
    expect(b.take("a", 1000)).to.equal(true);
    expect(b.take("a", 1500)).to.equal(false);
    // Partial periods are not lost: the next token is due at 2000, not 2500.
    expect(b.take("a", 2000)).to.equal(true);
  });

  it("forgets keys whose bucket has refilled, so it does not grow with every key ever seen", () => {
    const b = new TokenBuckets(2, 1000);
    for (let i = 0; i < 10_000; i++) b.take(`obj-${i}`, 0);
    expect(b.size).to.equal(10_000);
    b.take("busy", 1000); // each took one of two tokens at 0 and has it back by 1000: full, forgotten
    expect(b.size).to.equal(1);
    // A key still short of tokens is kept.
    b.take("busy", 1000);
    b.take("busy", 1000);
    b.take("idle", 2000);
    expect(b.size).to.equal(2);
    expect(b.take("busy", 2000)).to.equal(true);
  });
});
