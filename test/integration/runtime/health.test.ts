// /healthz, /readyz (only after the caches synced) and /metrics under controller-runtime's names.
import { expect } from "chai";
import { Types } from "../../../src/kube/resource.ts";
import { silentLogger } from "../../../src/log.ts";
import { Manager } from "../../../src/runtime/manager.ts";
import { deleteNamespace, eventually, testNamespace } from "../support/kube.ts";
import { client, source } from "./support.ts";

describe("manager health and metrics endpoints", function () {
  let ns = "";
  before(async () => {
    ns = await testNamespace("health");
  });
  after(async () => {
    await deleteNamespace(ns);
  });

  it("serves /healthz, /readyz after sync, and /metrics with controller-runtime's names", async () => {
    const kube = await client();
    const manager = new Manager({
      client: kube,
      log: silentLogger(),
      health: { host: "127.0.0.1", port: 0 },
      leaderElection: { namespace: ns, name: "health-test", identity: "me", leaseDurationMs: 6000, renewDeadlineMs: 4000, retryPeriodMs: 1000 },
    });
    manager
      .controller("health-test")
      .for(Types.ConfigMap, { namespace: ns, labelSelector: "berth.dev/test=source" })
      .complete({ reconcile: async () => undefined });
    const abort = new AbortController();
    const done = manager.run(abort.signal);
    const base = await eventually("health server", async () => manager.healthPort && `http://127.0.0.1:${manager.healthPort}`);
    expect((await fetch(`${base}/healthz`)).status).to.equal(200);
    await eventually("ready", async () => (await fetch(`${base}/readyz`)).status === 200);
    await kube.create(Types.ConfigMap, source("m", ns, {}));
    const metrics = await eventually("metrics after a reconcile", async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return text.includes('controller_runtime_reconcile_total{controller="health-test",result="success"}') ? text : undefined;
    });
    for (const name of [
      "controller_runtime_reconcile_time_seconds_bucket",
      "controller_runtime_active_workers",
      "workqueue_depth",
      "workqueue_adds_total",
      "workqueue_queue_duration_seconds_bucket",
      "workqueue_work_duration_seconds_bucket",
    ]) {
      expect(metrics, name).to.contain(name);
    }
    expect(metrics).to.match(/leader_election_master_status\{name="health-test"\} 1/);
    abort.abort();
    await done;
    await manager.close();
    kube.close();
  });
});
