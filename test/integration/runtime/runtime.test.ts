// The controller runtime against the real control plane, including its faults.
import { expect } from "chai";
import { register } from "prom-client";
import type { KubeClient } from "../../../src/kube/client.ts";
import { Types } from "../../../src/kube/resource.ts";
import { deleteNamespace, eventually, testNamespace } from "../support/kube.ts";
import { clusterCtl, etcdCompact, etcdDelete } from "../support/cluster-control.ts";
import type { ConfigMap, Running } from "./support.ts";
import { childData, client, copyToChild, runController, source } from "./support.ts";

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = await register.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

describe("controller runtime", function () {
  let kube: KubeClient;
  let ns = "";
  let running: Running | undefined;

  before(async () => {
    kube = await client();
  });
  beforeEach(async () => {
    ns = await testNamespace("rt");
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await deleteNamespace(ns);
  });

  it("reconciles creates into owned children, garbage-collected with their owner", async () => {
    running = await runController(ns, (k) => copyToChild(kube, running!.manager, ns, k));
    const owner = await kube.create(Types.ConfigMap, source("a", ns, { v: "1" }));
    expect(await eventually("child", () => childData(kube, ns, "a"))).to.deep.equal({ v: "1" });
    const child = await kube.get<ConfigMap>(Types.ConfigMap, ns, "a-child");
    expect(child.metadata.ownerReferences?.[0]).to.include({ kind: "ConfigMap", name: "a", uid: owner.metadata.uid, controller: true });
    expect(child.metadata.labels ?? {}).to.not.have.property("berth.dev/test");
    await kube.delete(Types.ConfigMap, ns, "a");
    await eventually("child garbage-collected", async () => (await childData(kube, ns, "a")) === undefined);
  });

  it("recovers when kube-apiserver stops for 10 s: later changes are reconciled, nothing duplicated", async function () {
    this.timeout(120_000);
    const seen: string[] = [];
    running = await runController(ns, async (k) => {
      seen.push(k.name);
      await copyToChild(kube, running!.manager, ns, k);
    });
    await kube.create(Types.ConfigMap, source("before", ns, { v: "1" }));
    await eventually("child of 'before'", () => childData(kube, ns, "before"));
    await clusterCtl("stop", "kube-apiserver");
    await new Promise((r) => setTimeout(r, 10_000));
    await clusterCtl("start", "kube-apiserver");
    kube = await client();
    await kube.create(Types.ConfigMap, source("after", ns, { v: "2" }));
    await kube.mergePatch(Types.ConfigMap, ns, "before", { data: { v: "1b" } });
    expect(await eventually("child of 'after'", () => childData(kube, ns, "after"), 90_000)).to.deep.equal({ v: "2" });
    await eventually("update of 'before' reconciled", async () => (await childData(kube, ns, "before"))?.v === "1b", 30_000);
    const children = (await kube.list<ConfigMap>(Types.ConfigMap, { namespace: ns })).items.filter((c) => c.metadata.name?.endsWith("-child"));
    expect(children.map((c) => c.metadata.name).sort()).to.deep.equal(["after-child", "before-child"]);
    // One create of "after" and no replay storm: each key reconciled a handful of times at most.
    expect(seen.filter((n) => n === "after").length).to.be.within(1, 3);
  });

  it("relists after 410 Gone and emits a delete for an object removed while the watch was down", async function () {
    this.timeout(120_000);
    running = await runController(ns, async () => undefined);
    const informer = running.manager.informers.informerFor<ConfigMap>(Types.ConfigMap, { namespace: ns, labelSelector: "berth.dev/test=source" });
    const deleted: string[] = [];
    informer.addHandler({ onDelete: (o) => deleted.push(o.metadata.name ?? "") });
    await kube.create(Types.ConfigMap, source("doomed", ns, {}));
    await kube.create(Types.ConfigMap, source("survivor", ns, {}));
    await eventually("both cached", async () => informer.store.size === 2);
    const listsBefore = informer.reflector.lists;
    await clusterCtl("stop", "kube-apiserver");
    expect(await etcdDelete(`/registry/configmaps/${ns}/doomed`)).to.equal(1);
    await etcdCompact();
    await clusterCtl("start", "kube-apiserver");
    kube = await client();
    await eventually("delete emitted", async () => deleted.includes("doomed"), 90_000);
    expect(informer.reflector.lists).to.be.greaterThan(listsBefore);
    expect(informer.store.keys()).to.deep.equal([`${ns}/survivor`]);
    expect(await metricValue("berth_reflector_relists_total", { resource: "configmaps" })).to.be.greaterThan(0);
  });

  it("coalesces 1,000 rapid updates of one object into far fewer reconciles, ending in the right state", async function () {
    this.timeout(120_000);
    let reconciles = 0;
    running = await runController(ns, async (k) => {
      reconciles++;
      await copyToChild(kube, running!.manager, ns, k);
    });
    await kube.create(Types.ConfigMap, source("hot", ns, { n: "0" }));
    // 999 updates, 50 in flight at a time (a burst, as from a busy client), then the last one.
    const patch = (i: number) => kube.mergePatch(Types.ConfigMap, ns, "hot", { data: { n: String(i) } });
    for (let i = 1; i < 1000; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, 1000 - i) }, (_, j) => patch(i + j)));
    }
    await patch(1000);
    await eventually("final state", async () => (await childData(kube, ns, "hot"))?.n === "1000", 60_000);
    expect(reconciles, `${reconciles} reconciles`).to.be.lessThan(500);
  });

  it("retries a failing reconcile with growing backoff until it succeeds, and counts the retries", async function () {
    const attempts: number[] = [];
    const name = `test-${ns}`;
    const retriesBefore = await metricValue("workqueue_retries_total", { name });
    running = await runController(
      ns,
      async (k) => {
        if (k.name !== "flaky") return;
        attempts.push(performance.now());
        if (attempts.length <= 3) throw new Error(`transient failure ${attempts.length}`);
      },
      { backoffBaseMs: 100 },
    );
    await kube.create(Types.ConfigMap, source("flaky", ns, {}));
    await eventually("4 attempts", async () => attempts.length >= 4, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(attempts).to.have.length(4);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps[0]).to.be.at.least(90);
    expect(gaps[1]).to.be.at.least(190);
    expect(gaps[2]).to.be.at.least(390);
    expect((await metricValue("workqueue_retries_total", { name })) - retriesBefore).to.equal(3);
    expect(await metricValue("controller_runtime_reconcile_errors_total", { controller: name })).to.equal(3);
    expect(await metricValue("controller_runtime_reconcile_total", { controller: name, result: "success" })).to.equal(1);
  });
});
