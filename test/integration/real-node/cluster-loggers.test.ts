// Logger levels of the cluster API reach a process that really runs, without a restart: a job
// on the real node (busybox from the local registry) prints, every second, the level it reads
// from the mounted loggers ConfigMap (its allocation's file, else the default's). A default
// changed with POST /v1/log/defaults/{loggerID} and an allocation's level changed with
// POST /v1/log/allocs/{allocID}/{loggerID} both appear in its log (read back through
// /v1/log/fs) within the kubelet's bound for ConfigMap volumes: its pod sync period
// (syncFrequency, read from the node's /configz) times 1.5 (the kubelet's jitter), plus 15 s.
// The pod is the same one throughout: no restart, no new release.
// Skipped (and counted as skipped) when the cluster has no real node.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import type { App } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startClusterApi } from "../support/cluster-api.ts";
import type { Res } from "../support/http.ts";
import { call } from "../support/http.ts";
import { eventually, kubectl } from "../support/kube.ts";

const REGISTRY = process.env.BERTH_REGISTRY ?? "";
const NODE = process.env.BERTH_REAL_NODE ?? "";

/** A Go duration as the kubelet prints it ("1m0s", "10s", "1m30s") in milliseconds. */
function goDurationMs(d: string): number {
  let ms = 0;
  for (const [, n, unit] of d.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) ms += Number(n) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[unit as "h" | "m" | "s" | "ms"];
  return ms;
}

describe("real node: cluster API logger levels reach the running process", function () {
  this.timeout(360_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const [alice, pool, job] = [`la${id}`, `clr-${id}`, `logjob-${id}`];
  let ns = `pool-${pool}`;
  let token = "";
  let boundMs = 0;
  let alloc = "";
  const api = (method: string, path: string, json?: unknown): Promise<Res> => call(berth.apiURL, method, path, { token, ...(json !== undefined ? { json } : {}) });
  /** The newest level line the process printed, read through the cluster API. */
  const lastLevel = async () => {
    const r = await api("GET", `/v1/log/fs/${alloc}/main/stdout?origin=end&offset=400`);
    return r.text.trim().split("\n").filter((l) => l.startsWith("engine.leaf=")).pop()?.slice("engine.leaf=".length);
  };
  /** Milliseconds from now until the process prints level (fails past the bound). */
  const seen = async (level: string) => {
    const start = Date.now();
    await eventually(`the process to print ${level}`, async () => (await lastLevel()) === level, boundMs, 500);
    return Date.now() - start;
  };

  before(async function () {
    if (!NODE || !REGISTRY) {
      process.stdout.write("    skipped: this cluster has no real node (BERTH_REAL_NODES=0, not root, or another cluster on this machine runs it)\n");
      this.skip();
    }
    let tokens: Record<string, string>;
    ({ berth, tokens } = await startClusterApi(pool, [alice], {
      nodeSelector: { "berth.dev/node-group": "real" },
      tolerations: [{ key: "berth.dev/real-node", operator: "Exists", effect: "NoSchedule" }],
    }));
    token = tokens[alice]!;
    const config = JSON.parse(await kubectl("get", "--raw", `/api/v1/nodes/${NODE}/proxy/configz`)) as { kubeletconfig: { syncFrequency?: string; configMapAndSecretChangeDetectionStrategy?: string } };
    boundMs = goDurationMs(config.kubeletconfig.syncFrequency ?? "1m") * 1.5 + 15_000;
    process.stdout.write(`    kubelet syncFrequency ${config.kubeletconfig.syncFrequency}, ConfigMap change detection ${config.kubeletconfig.configMapAndSecretChangeDetectionStrategy}: bound ${boundMs} ms\n`);
  });
  after(async () => {
    if (!berth) return;
    await api("POST", "/v1/settings", { jobs: [] }).catch(() => undefined);
    await kubectl("delete", "clustersettings", `user-${alice}`, "--ignore-not-found").catch(() => undefined);
    await berth.client.delete(BerthTypes.Pool, undefined, pool).catch(() => undefined);
    await berth.stop();
  });

  it("a job re-reading its mounted logger file every second prints the default level", async () => {
    expect((await api("POST", "/v1/log/defaults/engine", { leaf: "info" })).status).to.equal(200);
    const script = [
      "while true; do",
      "f=/etc/berth/loggers/${BERTH_ALLOC}_engine_leaf;",
      "[ -f $f ] || f=/etc/berth/loggers/default_engine_leaf;",
      "echo engine.leaf=`cat $f 2>/dev/null || echo unset`;",
      "sleep 1;",
      "done",
    ].join(" ");
    const image = `${REGISTRY}/berth/busybox:1.35`;
    const r = await api("POST", "/v1/settings", { jobs: [{ name: job, image, taskGroups: [{ name: "main", command: ["sh", "-c", script], countInit: 1, countMax: 1 }] }] });
    expect(r.status, r.text).to.equal(200);
    // Jobs go to the default pool: this test's, unless another default pool exists meanwhile
    // (then the job is placed by this one: its pool names the node group, not the namespace).
    const app = (await berth.client.list<App>(BerthTypes.App)).items.find((a) => a.metadata.name === job);
    expect(app, "the job's App").to.not.equal(undefined);
    ns = app!.metadata.namespace ?? ns;
    if (app!.spec.pool !== pool) await berth.client.mergePatch(BerthTypes.App, ns, job, { spec: { pool } });
    alloc = await eventually("a running allocation on the real node", async () => {
      const pods = JSON.parse(await kubectl("get", "pods", "-n", ns, "-l", `berth.dev/app=${job}`, "--field-selector=status.phase=Running", "-o", "json")) as { items: { metadata: { name: string }; spec: { nodeName: string } }[] };
      return pods.items.length === 1 && pods.items[0]!.spec.nodeName === NODE && pods.items[0]!.metadata.name;
    }, 120_000, 1000);
    await seen("info");
  });

  it("a default level changed with POST /v1/log/defaults reaches the same process in place (no restart, no release)", async function () {
    const before = JSON.parse(await kubectl("get", "apps.berth.dev", job, "-n", ns, "-o", "jsonpath={.status}")) as { currentReleaseVersion?: number };
    expect((await api("POST", "/v1/log/defaults/engine", { leaf: "warning" })).status).to.equal(200);
    const ms = await seen("warning");
    this.test!.title += ` [seen after ${ms} ms; bound ${boundMs} ms]`;
    const pod = JSON.parse(await kubectl("get", "pod", alloc, "-n", ns, "-o", "json")) as { status: { containerStatuses: { restartCount: number }[] } };
    expect(pod.status.containerStatuses[0]?.restartCount).to.equal(0);
    const after = JSON.parse(await kubectl("get", "apps.berth.dev", job, "-n", ns, "-o", "jsonpath={.status}")) as { currentReleaseVersion?: number };
    expect(after.currentReleaseVersion).to.equal(before.currentReleaseVersion);
  });

  it("POST /v1/log/allocs/{allocID}/{loggerID} {leaf: debug}: the allocation's own level appears in its log", async function () {
    const set = await api("POST", `/v1/log/allocs/${alloc}/engine`, { leaf: "debug" });
    expect(set.status, set.text).to.equal(200);
    expect(set.json<Record<string, string>>()).to.deep.equal({ leaf: "debug" });
    const ms = await seen("debug");
    this.test!.title += ` [seen after ${ms} ms; bound ${boundMs} ms]`;
    expect((await api("GET", `/v1/log/allocs/${alloc}`)).json<Record<string, Record<string, string>>>()).to.deep.equal({ engine: { leaf: "debug" } });
  });
});
