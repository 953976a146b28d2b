// App benchmark, against the cluster of the current kubeconfig: time from creating N Apps
// (one process each) to all Ready, the operator's peak heap and its API requests per App,
// beside the time the API server needs to accept the same Deployments, Services and Secrets
// written directly (the ceiling), in the same run.
// Run: BENCH_N=100 npm run bench:apps   (and BENCH_N=1000)
import { execFileSync } from "node:child_process";
import { setupAppController } from "../src/controllers/app-controller.ts";
import { setupPoolController } from "../src/controllers/pool-controller.ts";
import type { KubeObject } from "../src/kube/resource.ts";

import { Types } from "../src/kube/resource.ts";
import { silentLogger } from "../src/log.ts";
import type { App } from "../src/model/kinds.ts";
import { BerthTypes } from "../src/model/kinds.ts";
import { isTrue } from "../src/runtime/conditions.ts";
import { Manager } from "../src/runtime/manager.ts";
import { client, heapMB, namespace, pool, report } from "./support.ts";

const N = Number(process.env.BENCH_N ?? 100);
const WIDTH = 32;
execFileSync("kubectl", ["apply", "--server-side", "--force-conflicts", "-f", new URL("../crds/", import.meta.url).pathname], { stdio: "ignore" });
const c = await client();

// Ceiling: the children of N apps written directly.
const direct = await namespace(c, "bench-direct");
const labels = (i: number) => ({ app: `d-${i}` });
let t0 = performance.now();
await pool(N, WIDTH, async (i) => {
  await c.create(Types.Secret, { metadata: { name: `d-${i}-v1-env`, namespace: direct }, data: { A: "MQ==" } });
  await c.create(Types.Deployment, {
    metadata: { name: `d-${i}-web`, namespace: direct },
    spec: { replicas: 1, selector: { matchLabels: labels(i) }, template: { metadata: { labels: labels(i) }, spec: { containers: [{ name: "web", image: "nginx", envFrom: [{ secretRef: { name: `d-${i}-v1-env` } }] }] } } },
  });
  await c.create(Types.Service, { metadata: { name: `d-${i}-web`, namespace: direct }, spec: { selector: labels(i), ports: [{ port: 80 }] } });
});
const directAccepted = performance.now() - t0;
// ... and until the cluster has them all running (the same controllers, scheduler and KWOK work Berth waits for).
for (;;) {
  const deps = await c.list<KubeObject & { status?: { availableReplicas?: number } }>(Types.Deployment, { namespace: direct });
  if (deps.items.filter((d) => d.status?.availableReplicas === 1).length === N) break;
  await new Promise((r) => setTimeout(r, 100));
}
const directReady = performance.now() - t0;

// Berth: N Apps through the operator.
const ns = await namespace(c, "bench-apps");
const requests = new Map<string, number>();
c.counter = { count: (verb) => requests.set(verb, (requests.get(verb) ?? 0) + 1) };
const manager = new Manager({ client: c, log: silentLogger() });
setupAppController(manager, 8);
setupPoolController(manager);
const abort = new AbortController();
const running = manager.run(abort.signal);
await manager.informers.waitForSync();
requests.clear();
const heapBefore = heapMB();
let peak = heapBefore;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed / 1024 / 1024)), 100);
const creator = await client(); // the "kubectl apply" side, not counted as operator requests
t0 = performance.now();
await pool(N, WIDTH, (i) =>
  creator.create<App>(BerthTypes.App, { metadata: { name: `a-${i}`, namespace: ns }, spec: { image: "nginx:1.27", processes: [{ name: "web", ports: [{ port: 80 }] }], env: [{ name: "A", value: "1" }] } }),
);
const appsStore = manager.informers.informerFor<App>(BerthTypes.App).store;
const ready = () => appsStore.list(ns).filter((a) => isTrue(a.status?.conditions, "Ready")).length;
while (ready() < N) await new Promise((r) => setTimeout(r, 100));
const allReady = performance.now() - t0;
clearInterval(sampler);
const total = [...requests.values()].reduce((a, b) => a + b, 0);
abort.abort();
await running;
await manager.close();

report(`apps (${N} Apps, one process each)`, {
  "Apps created -> all Ready (s)": allReady / 1000,
  "direct children accepted by the API server (s)": directAccepted / 1000,
  "Berth / direct accepted": allReady / directAccepted,
  "direct children -> all Deployments available (s)": directReady / 1000,
  "Berth / direct available": allReady / directReady,
  "operator API requests per App": total / N,
  ...Object.fromEntries([...requests].map(([v, n]) => [`  of which ${v} per App`, n / N])),
  "operator heap before (MiB)": heapBefore,
  "operator peak heap (MiB)": peak,
});
for (const n of [direct, ns]) await c.delete(Types.Namespace, undefined, n).catch(() => undefined);
creator.close();
c.close();
process.exit(0);
