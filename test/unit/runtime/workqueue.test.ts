import { expect } from "chai";
import { WorkQueue } from "../../../src/runtime/workqueue.ts";

const tick = () => new Promise((r) => setImmediate(r));

describe("WorkQueue", () => {
  it("does not add a waiting key twice", async () => {
    const q = new WorkQueue({ name: "t-dedupe" });
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.length).to.equal(2);
    expect(await q.get()).to.equal("a");
    expect(await q.get()).to.equal("b");
  });

  it("never hands a key being processed to a second worker, and requeues it after done", async () => {
    const q = new WorkQueue({ name: "t-processing" });
    q.add("a");
    const first = await q.get();
    q.add("a"); // changed while processing
    expect(q.length).to.equal(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await tick();
    expect(second).to.equal(undefined);
    q.done(first!);
    await tick();
    expect(second).to.equal("a");
  });

  it("backs off per key exponentially and forgets on success", () => {
    const q = new WorkQueue({ name: "t-backoff", backoffBaseMs: 5, backoffCapMs: 1000 });
    expect([q.addRateLimited("a"), q.addRateLimited("a"), q.addRateLimited("a")]).to.deep.equal([5, 10, 20]);
    expect(q.addRateLimited("b")).to.equal(5);
    for (let i = 0; i < 20; i++) q.addRateLimited("a");
    expect(q.addRateLimited("a")).to.equal(1000);
    q.forget("a");
    expect(q.retries("a")).to.equal(0);
    expect(q.addRateLimited("a")).to.equal(5);
    void q.shutDown();
  });

  it("adds after a delay, and an earlier timer for the same key wins", async () => {
    const q = new WorkQueue({ name: "t-after" });
    q.addAfter("a", 20);
    q.addAfter("a", 1000);
    const started = Date.now();
    expect(await q.get()).to.equal("a");
    expect(Date.now() - started).to.be.lessThan(500);
    void q.shutDown();
  });

  it("drains in-flight work on shutdown and hands out nothing more", async () => {
    const q = new WorkQueue({ name: "t-shutdown" });
    q.add("a");
    q.add("b");
    const k = await q.get();
    let drained = false;
    const done = q.shutDown().then(() => (drained = true));
    expect(await q.get()).to.equal("b"); // already queued keys are still handed out
    q.done("b");
    await tick();
    expect(drained).to.equal(false);
    q.done(k!);
    await done;
    expect(drained).to.equal(true);
    expect(await q.get()).to.equal(undefined);
    q.add("c");
    expect(q.length).to.equal(0);
  });
});
