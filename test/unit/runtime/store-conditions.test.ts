import { expect } from "chai";
import { Backoff } from "../../../src/runtime/backoff.ts";
import { setCondition } from "../../../src/runtime/conditions.ts";
import { canonicalJSON } from "../../../src/runtime/status.ts";
import { Store } from "../../../src/runtime/store.ts";
import type { KubeObject } from "../../../src/kube/resource.ts";

const app = (name: string, pool: string, rv = "1"): KubeObject => ({
  metadata: { name, namespace: "ns", resourceVersion: rv },
  spec: { pool },
});

describe("Store", () => {
  it("keeps indexes in step with upserts and removals", () => {
    const s = new Store();
    s.addIndex("pool", (o) => [String((o.spec as { pool: string }).pool)]);
    s.upsert(app("a", "p1"));
    s.upsert(app("b", "p1"));
    s.upsert(app("c", "p2"));
    expect(s.byIndex("pool", "p1").map((o) => o.metadata.name).sort()).to.deep.equal(["a", "b"]);
    s.upsert(app("a", "p2", "2"));
    expect(s.byIndex("pool", "p1").map((o) => o.metadata.name)).to.deep.equal(["b"]);
    expect(s.byIndex("pool", "p2").map((o) => o.metadata.name).sort()).to.deep.equal(["a", "c"]);
    s.remove("ns/c");
    expect(s.byIndex("pool", "p2").map((o) => o.metadata.name)).to.deep.equal(["a"]);
    expect(s.get("ns/a")?.metadata.resourceVersion).to.equal("2");
    expect(() => s.byIndex("nope", "x")).to.throw(/no index named nope/);
  });

  it("lists a namespace's objects from its namespace index, in step with upserts and removals", () => {
    const s = new Store();
    const at = (name: string, namespace: string, rv = "1") => ({ metadata: { name, namespace, resourceVersion: rv } });
    s.upsert(at("a", "one"));
    s.upsert(at("b", "one"));
    s.upsert(at("a", "two"));
    s.upsert({ metadata: { name: "cluster-wide" } });
    expect(s.list("one").map((o) => o.metadata.name).sort()).to.deep.equal(["a", "b"]);
    s.upsert(at("b", "one", "2"));
    expect(s.list("one").find((o) => o.metadata.name === "b")?.metadata.resourceVersion).to.equal("2");
    s.remove("one/a");
    expect(s.list("one").map((o) => o.metadata.name)).to.deep.equal(["b"]);
    expect(s.list("two").map((o) => o.metadata.name)).to.deep.equal(["a"]);
    expect(s.list("three")).to.deep.equal([]);
    expect(s.list()).to.have.length(3);
  });

  it("indexes objects already present when an index is added later", () => {
    const s = new Store();
    s.upsert(app("a", "p1"));
    s.addIndex("pool", (o) => [String((o.spec as { pool: string }).pool)]);
    expect(s.byIndex("pool", "p1")).to.have.length(1);
  });
});

describe("conditions", () => {
  it("changes lastTransitionTime only when the status changes", () => {
    const t1 = new Date("2026-01-01T00:00:00Z");
    const t2 = new Date("2026-01-01T00:05:00Z");
    let c = setCondition([], { type: "Ready", status: "False", reason: "Progressing", message: "0/1" }, t1);
    c = setCondition(c, { type: "Ready", status: "False", reason: "Progressing", message: "0/2" }, t2);
    expect(c).to.have.length(1);
    expect(c[0]).to.include({ lastTransitionTime: "2026-01-01T00:00:00Z", message: "0/2" });
    c = setCondition(c, { type: "Ready", status: "True", reason: "Ready", message: "2/2" }, t2);
    expect(c[0]?.lastTransitionTime).to.equal("2026-01-01T00:05:00Z");
    c = setCondition(c, { type: "Degraded", status: "False", reason: "OK", message: "" }, t2);
    expect(c.map((x) => x.type)).to.deep.equal(["Ready", "Degraded"]);
  });
});

describe("Backoff", () => {
  it("doubles from the base up to the cap and resets", () => {
    const b = new Backoff(800, 30_000);
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).to.deep.equal([800, 1600, 3200, 6400, 12800, 25600, 30000]);
    b.reset();
    expect(b.next()).to.equal(800);
  });
});

describe("canonicalJSON", () => {
  it("ignores key order", () => {
    expect(canonicalJSON({ a: 1, b: { c: 2, d: [1, { y: 1, x: 2 }] } })).to.equal(canonicalJSON({ b: { d: [1, { x: 2, y: 1 }], c: 2 }, a: 1 }));
  });
});
