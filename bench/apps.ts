// App benchmark, against the cluster of the current kubeconfig: time from creating N Apps
// (one process each) to all Ready, beside two ceilings measured in the same run:
// - plain: the Deployments, Services and Secrets of N apps written directly;
// - fair: exactly the writes Berth makes per App, made directly (the App, its Release, env
//   Secret, Deployment and Service, one status update), so the ratio to it is Berth's own overhead.
// Then the operator's API requests per App (by verb and resource), its RSS and heap with the N
// Apps cached, and a restart: a new manager's time to caches synced and every App reconciled
// once, and the writes it made doing so (nothing changed, so none are due).
// Order: plain ceiling, Berth, restart, fair ceiling; so 3 x N pods must fit (KWOK nodes are
// resized for them). Every wait fails with a reason when nothing moves for BENCH_STALL_S (120) s.
// Run: BENCH_N=100 npm run bench:apps   (and BENCH_N=1000; BENCH_FAIR=0 skips the fair ceiling,
// BENCH_WORKERS sets the App controller's workers, default 8)
import { execFileSync } from "node:child_process";
import { setupAppController } from "../src/controllers/app-controller.ts";
import { setupPoolController } from "../src/controllers/pool-controller.ts";
import type { KubeClient } from "../src/kube/client.ts";
import type { KubeObject } from "../src/kube/resource.ts";
import { Types } from "../src/kube/resource.ts";
import { silentLogger } from "../src/log.ts";
import type { App, Release } from "../src/model/kinds.ts";
import { BerthTypes } from "../src/model/kinds.ts";
import { desiredReleaseSecret, nextRelease } from "../src/reconcilers/desired/release.ts";
import { desiredDeployment, desiredService } from "../src/reconcilers/desired/workloads.ts";
import { applyIfChanged } from "../src/runtime/apply-if-changed.ts";
import { isTrue, setCondition } from "../src/runtime/conditions.ts";
import { Informer } from "../src/runtime/informer.ts";
import { Manager } from "../src/runtime/manager.ts";
import { updateStatus } from "../src/runtime/status.ts";
import { ensurePodRoom } from "./capacity.ts";
import { notReady, pendingPods, waitForCount } from "./progress.ts";
import { client, heapMB, namespace, pool, report } from "./support.ts";

const N = Number(process.env.BENCH_N ?? 100);
const WIDTH = 32;
const CONCURRENCY = Number(process.env.BENCH_WORKERS ?? 8);
/** BENCH_FAIR=0 skips the fair ceiling (a shorter run: 2 x N pods, about two thirds of the time). */
const FAIR = process.env.BENCH_FAIR !== "0";
const seconds = (ms: number) => ms / 1000;
const mib = (bytes: number) => bytes / 1024 / 1024;
const appSpec = { image: "nginx:1.27", processes: [{ name: "web", ports: [{ port: 80 }] }], env: [{ name: "A", value: "1" }] };

execFileSync("kubectl", ["apply", "--server-side", "--force-conflicts", "-f", new URL("../crds/", import.meta.url).pathname], { stdio: "ignore" });
const c = await client();
console.log(`room: ${await ensurePodRoom(c, (FAIR ? 3 : 2) * N)}`); // plain, Berth's and the fair ceiling's pods
const phase = (what: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${what}`);
const namespaces: string[] = [];

type Deployment = KubeObject & { status?: { availableReplicas?: number } };
/** Times from t0 until every Deployment in ns is available, watching (not polling the API). */
async function deploymentsAvailable(ns: string, what: string): Promise<void> {
  const inf = new Informer<Deployment>(c, Types.Deployment, silentLogger(), { namespace: ns });
  const stop = new AbortController();
  inf.start(stop.signal);
  await inf.waitForSync();
  try {
    const available = () => inf.store.list().filter((d) => d.status?.availableReplicas === 1).length;
    await waitForCount(what, N, available, () => pendingPods(c, ns));
  } finally {
    stop.abort();
  }
}

/** One App's writes as Berth makes them, made directly: App, Release, env Secret, Deployment, Service, status. */
async function fairWrites(k: KubeClient, ns: string, i: number): Promise<void> {
  const app = await k.create<App>(BerthTypes.App, { metadata: { name: `f-${i}`, namespace: ns }, spec: appSpec });
  const env = { A: "1" };
  const content = { image: app.spec.image, processes: app.spec.processes, env };
  const release = await k.create<Release>(BerthTypes.Release, nextRelease(app, [], content, undefined, { publicNames: ["A"], privateNames: [] })!);
  await k.create(Types.Secret, desiredReleaseSecret(release, env));
  const web = { ...app.spec.processes[0]!, replicas: 1 };
  await applyIfChanged(k, Types.Deployment, desiredDeployment(app, release, web, {}), undefined);
  await applyIfChanged(k, Types.Service, desiredService(app, web)!, undefined);
  const gen = app.metadata.generation;
  const ready = setCondition([], { type: "Ready", status: "True", reason: "Running", message: "v1: 1/1 units ready", observedGeneration: gen });
  await updateStatus(k, BerthTypes.App, app, { observedGeneration: gen, currentRelease: "v1", currentReleaseVersion: 1, state: "Running", readySummary: "1/1", processes: [{ name: "web", desired: 1, ready: 1, updated: 1 }], conditions: ready });
}

async function fairCeiling(): Promise<{ accepted: number; ready: number }> {
  phase(`fair ceiling: ${N} × (App, Release, Secret, Deployment, Service, status)`);
  const fairNs = await namespace(c, "bench-fair");
  namespaces.push(fairNs);
  const fairClient = await client();
  const t0 = performance.now();
  await pool(N, WIDTH, (i) => fairWrites(fairClient, fairNs, i));
  const accepted = performance.now() - t0;
  await deploymentsAvailable(fairNs, "fair ceiling: Deployments available");
  fairClient.close();
  return { accepted, ready: performance.now() - t0 };
}

try {
  // Ceiling 1, plain: the children of N apps written directly.
  phase(`plain ceiling: ${N} Deployments, Services, Secrets`);
  const direct = await namespace(c, "bench-direct");
  namespaces.push(direct);
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
  await deploymentsAvailable(direct, "plain ceiling: Deployments available");
  const directReady = performance.now() - t0;

  // Berth: N Apps through the operator.
  phase(`Berth: ${N} Apps`);
  const ns = await namespace(c, "bench-apps");
  namespaces.push(ns);
  const requests = new Map<string, number>();
  c.counter = { count: (verb, path) => requests.set(`${verb} ${resourceOf(path)}`, (requests.get(`${verb} ${resourceOf(path)}`) ?? 0) + 1) };
  let manager = new Manager({ client: c, log: silentLogger() });
  setupAppController(manager, CONCURRENCY);
  setupPoolController(manager);
  let abort = new AbortController();
  let running = manager.run(abort.signal);
  await manager.informers.waitForSync();
  requests.clear();
  const heapBefore = heapMB();
  let peakHeap = heapBefore;
  let peakRss = mib(process.memoryUsage().rss);
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, mib(m.heapUsed));
    peakRss = Math.max(peakRss, mib(m.rss));
  }, 100);
  const creator = await client(); // the "kubectl apply" side, not counted as operator requests
  t0 = performance.now();
  await pool(N, WIDTH, (i) => creator.create<App>(BerthTypes.App, { metadata: { name: `a-${i}`, namespace: ns }, spec: appSpec }));
  const appsOf = (m: Manager) => m.informers.informerFor<App>(BerthTypes.App).store;
  const ready = () => appsOf(manager).list(ns).filter((a) => isTrue(a.status?.conditions, "Ready")).length;
  await waitForCount("Berth: Apps Ready", N, ready, async () => `${notReady(appsOf(manager).list(ns))}\n${await pendingPods(c, ns)}`);
  const allReady = performance.now() - t0;
  clearInterval(sampler);
  const byVerb = new Map<string, number>();
  for (const [k, n] of requests) byVerb.set(k.split(" ")[0]!, (byVerb.get(k.split(" ")[0]!) ?? 0) + n);
  const total = [...requests.values()].reduce((a, b) => a + b, 0);
  const memory = process.memoryUsage();
  peakRss = Math.max(peakRss, mib(memory.rss));
  const heapAtN = heapMB();
  const perResource = [...requests].filter(([k]) => !k.startsWith("GET ")).sort((a, b) => b[1] - a[1]);

  // Restart: a new manager over the same N Ready Apps.
  phase("restart: new manager");
  abort.abort();
  await running;
  await manager.close();
  requests.clear();
  t0 = performance.now();
  manager = new Manager({ client: c, log: silentLogger() });
  setupAppController(manager, CONCURRENCY);
  setupPoolController(manager);
  const seen = new Set<string>();
  const appController = manager.controllers.find((x) => x.name === "app")!;
  appController.onReconcileStart = (key) => seen.add(key);
  abort = new AbortController();
  running = manager.run(abort.signal);
  await manager.informers.waitForSync();
  const synced = performance.now() - t0;
  const confirmed = () => {
    const mine = [...seen].filter((k) => k.startsWith(`${ns}/`)).length;
    return mine === N && appController.queue.length === 0 && appController.queue.inFlight === 0 ? N : Math.min(mine, N - 1);
  };
  await waitForCount("restart: every App reconciled once", N, confirmed, async () => `${seen.size} keys reconciled, queue ${appController.queue.length}, in flight ${appController.queue.inFlight}`);
  const reconciledAll = performance.now() - t0;
  const restartWrites = [...requests].filter(([k]) => !k.startsWith("GET ")).reduce((a, [, n]) => a + n, 0);
  const restartReads = [...requests].filter(([k]) => k.startsWith("GET ")).reduce((a, [, n]) => a + n, 0);
  abort.abort();
  await running;
  await manager.close();
  creator.close();
  c.counter = undefined;

  // Ceiling 2, fair: Berth's writes per App, made directly, with no operator running (after
  // Berth's run: Apps made before would be Berth's to reconcile once it starts, and deleting
  // them takes the namespace controller minutes).
  const fair = FAIR ? await fairCeiling() : { accepted: NaN, ready: NaN };

  report(`apps (${N} Apps, one process each, ${CONCURRENCY} workers)`, {
    "Apps created -> all Ready (s)": seconds(allReady),
    "fair ceiling: accepted (s)": seconds(fair.accepted),
    "fair ceiling: -> all Deployments available (s)": seconds(fair.ready),
    "Berth / fair ceiling (available)": allReady / fair.ready,
    "plain ceiling: accepted (s)": seconds(directAccepted),
    "plain ceiling: -> all Deployments available (s)": seconds(directReady),
    "Berth / plain ceiling (available)": allReady / directReady,
    "operator API requests per App": total / N,
    ...Object.fromEntries([...byVerb].map(([v, n]) => [`  ${v} per App`, n / N])),
    ...Object.fromEntries(perResource.map(([k, n]) => [`    ${k} per App`, n / N])),
    "operator heap before (MiB)": heapBefore,
    "operator heap at N, after GC (MiB)": heapAtN,
    "operator peak heap (MiB)": peakHeap,
    "operator RSS at N (MiB)": mib(memory.rss),
    "operator peak RSS (MiB)": peakRss,
    "restart: start -> caches synced (s)": seconds(synced),
    "restart: start -> every App reconciled (s)": seconds(reconciledAll),
    "restart: writes": restartWrites,
    "restart: reads (LIST + WATCH)": restartReads,
  });
} finally {
  c.counter = undefined;
  for (const n of namespaces) await c.delete(Types.Namespace, undefined, n).catch(() => undefined);
  c.close();
}
process.exit(0);

/** "apps/status", "deployments", ... from a request path. */
function resourceOf(path: string): string {
  const parts = path.split("?")[0]!.split("/").filter(Boolean);
  const nsAt = parts.indexOf("namespaces");
  const rest = nsAt >= 0 && parts.length > nsAt + 2 ? parts.slice(nsAt + 2) : parts.slice(parts[0] === "api" ? 2 : 3);
  return rest.length > 2 ? `${rest[0]}/${rest[2]}` : (rest[0] ?? "?");
}
