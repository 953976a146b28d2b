// Two controller processes against one cluster: exactly one reconciles; kill -9 the leader
// and the other takes over within the lease duration; a clean shutdown releases the lease.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { expect } from "chai";
import type { KubeClient } from "../../../src/kube/client.ts";
import { Types } from "../../../src/kube/resource.ts";
import { deleteNamespace, eventually, testNamespace } from "../support/kube.ts";
import type { ConfigMap } from "./support.ts";
import { client, source } from "./support.ts";

interface Line {
  event: string;
  identity: string;
  t: number;
  key?: string;
}

const LEASE_MS = 6000;
const RETRY_MS = 1000;

function worker(ns: string, identity: string, lines: Line[]): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", new URL("./fixtures/leader-worker.ts", import.meta.url).pathname, ns, identity], {
    stdio: ["ignore", "pipe", "inherit"],
    env: process.env,
  });
  createInterface({ input: child.stdout! }).on("line", (l) => lines.push(JSON.parse(l) as Line));
  return child;
}

describe("leader election across processes", function () {
  this.timeout(120_000);
  let kube: KubeClient;
  let ns = "";
  const procs: ChildProcess[] = [];

  before(async () => {
    kube = await client();
    ns = await testNamespace("le");
  });
  after(async () => {
    for (const p of procs) p.kill("SIGKILL");
    await deleteNamespace(ns);
  });

  it("lets exactly one process reconcile, fails over after kill -9, and hands over at once on clean shutdown", async () => {
    const lines: Line[] = [];
    const a = worker(ns, "a", lines);
    procs.push(a);
    await eventually("a leads", async () => lines.some((l) => l.event === "leader" && l.identity === "a"), 30_000);
    const b = worker(ns, "b", lines);
    procs.push(b);
    for (const n of ["one", "two", "three"]) await kube.create(Types.ConfigMap, source(n, ns, {}));
    await eventually("3 children written by a", async () => {
      const kids = (await kube.list<ConfigMap>(Types.ConfigMap, { namespace: ns })).items.filter((c) => c.metadata.name?.endsWith("-child"));
      return kids.length === 3 && kids.every((c) => c.data?.writer === "a");
    });
    await new Promise((r) => setTimeout(r, 2 * RETRY_MS)); // b had time to (wrongly) act
    expect(lines.filter((l) => l.identity === "b" && l.event !== "stopped")).to.deep.equal([]);

    a.kill("SIGKILL");
    const killedAt = Date.now();
    const bLeads = await eventually("b takes over", async () => lines.find((l) => l.event === "leader" && l.identity === "b"), 30_000);
    const takeover = bLeads.t - killedAt;
    expect(takeover, `takeover took ${takeover} ms`).to.be.lessThan(LEASE_MS + 2 * RETRY_MS);
    await kube.mergePatch(Types.ConfigMap, ns, "one", { data: { touched: "yes" } });
    await eventually("b writes after taking over", async () => (await kube.get<ConfigMap>(Types.ConfigMap, ns, "one-child")).data?.writer === "b");
    // No reconcile by b before it led; none by a after it was killed.
    expect(lines.filter((l) => l.identity === "b" && l.event === "reconcile" && l.t < bLeads.t)).to.deep.equal([]);
    expect(lines.filter((l) => l.identity === "a" && l.t > killedAt)).to.deep.equal([]);

    const c = worker(ns, "c", lines);
    procs.push(c);
    await new Promise((r) => setTimeout(r, 1500));
    b.kill("SIGTERM");
    const stoppedAt = Date.now();
    const cLeads = await eventually("c takes over", async () => lines.find((l) => l.event === "leader" && l.identity === "c"), 30_000);
    expect(lines.some((l) => l.identity === "b" && l.event === "stopped")).to.equal(true);
    // The released lease need not expire first: waiting for expiry would take at least
    // LEASE_MS - RETRY_MS after the stop (c saw b's last renewal at most one retry before it).
    expect(cLeads.t - stoppedAt, "handover after release").to.be.lessThan(LEASE_MS - RETRY_MS);
  });
});
