// App benchmark, against the cluster of the current kubeconfig: time from creating N Apps
// (one process each) to all Ready, beside two ceilings measured in the same run:
// - plain: the Deployments, Services and Secrets of N apps written directly;
// - fair: exactly the writes Berth makes per App, made directly (the App, its Release, env
//   Secret, Deployment and Service, one status update), so the ratio to it is Berth's own overhead;
//   with as many writers in flight as Berth's run (32 creating Apps + the App workers).
// Berth's phase runs the App controller in this process, counting its API requests per App (by
// verb and resource) and restarting it over the N Ready Apps; then bench/operator-process.ts runs
// `berth run` compiled, in its own process, over the same Apps: restart to every App confirmed
// and its writes, RSS and heap with the N Apps cached, API reads against a direct LIST.
// Apps are spread over namespaces of BENCH_PER_NAMESPACE (1,000), every phase alike.
// Order: plain ceiling, Berth, restart, operator process, fair ceiling. Each fleet is deleted
// (untimed) before the next is written, so every phase starts on a cluster without the others'
// objects and N pods must fit (KWOK nodes are resized for them). Figures are printed as each
// phase ends, and a summary at the end; long waits print their progress every BENCH_PROGRESS_S
// (60) s and fail with a reason when nothing moves for BENCH_STALL_S (120) s (clearing: BENCH_CLEAR_STALL_S, 600 s). BENCH_KEEP=1
// leaves Berth's namespaces (to run the operator process again).
// Run: BENCH_N=100 npm run bench:apps   (and BENCH_N=1000, 10000; BENCH_PHASES=berth,fair runs only
// those phases; BENCH_WORKERS sets the App controller's workers, default 32: as many as the
// ceilings' writers in flight)
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { setupAppController } from "../src/controllers/app-controller.ts";
import { setupPoolController } from "../src/controllers/pool-controller.ts";
import type { KubeClient } from "../src/kube/client.ts";
import { isNotFound } from "../src/kube/client.ts";
import { resourceOfPath } from "../src/kube/request-resource.ts";
import type { KubeObject } from "../src/kube/resource.ts";
import { Types } from "../src/kube/resource.ts";
import { silentLogger } from "../src/log.ts";
import type { App, Release } from "../src/model/kinds.ts";
import { BerthTypes } from "../src/model/kinds.ts";
import { desiredReleaseSecret, nextRelease } from "../src/reconcilers/desired/release.ts";
import { desiredDeployment, desiredService } from "../src/reconcilers/desired/workloads.ts";
import { applyIfChanged } from "../src/runtime/apply-if-changed.ts";
import type { Condition } from "../src/runtime/conditions.ts";
import { isTrue, setCondition } from "../src/runtime/conditions.ts";
import { Informer } from "../src/runtime/informer.ts";
import { Manager } from "../src/runtime/manager.ts";
import { updateStatus } from "../src/runtime/status.ts";
import { ensurePodRoom } from "./capacity.ts";
import { notReady, pendingPods, sayProgress, tally, waitForCount } from "./progress.ts";
import { client, heapMB, namespace, pool, report } from "./support.ts";

const N = Number(process.env.BENCH_N ?? 100);
const WIDTH = 32;
const CONCURRENCY = Number(process.env.BENCH_WORKERS ?? WIDTH);
/** The phases to run, in this order: BENCH_PHASES (default "plain,berth,fair"). */
const PHASES = new Set((process.env.BENCH_PHASES ?? "plain,berth,fair").split(",").map((p) => p.trim()));
for (const p of PHASES) if (!["plain", "berth", "fair"].includes(p)) throw new Error(`BENCH_PHASES: unknown phase "${p}" (plain, berth, fair)`);
const seconds = (ms: number) => ms / 1000;
const mib = (bytes: number) => bytes / 1024 / 1024;
const appSpec = { image: "nginx:1.27", processes: [{ name: "web", ports: [{ port: 80 }] }], env: [{ name: "A", value: "1" }] };

execFileSync("kubectl", ["apply", "--server-side", "--force-conflicts", "-f", new URL("../crds/", import.meta.url).pathname], { stdio: "ignore" });
const c = await client();
console.log(`room: ${await ensurePodRoom(c, N)}`); // one fleet's pods at a time
const phase = (what: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${what}`);
const namespaces: string[] = [];
/**
 * Apps per namespace (BENCH_PER_NAMESPACE, 1,000): Kubernetes' scalability thresholds hold 5,000
 * Services per namespace (the endpoint controllers scan a namespace's Services and Pods on every
 * change, so one namespace of 10,000 is quadratic for the control plane), and a fleet spreads its
 * apps over its pools' namespaces. All three phases spread the same way.
 */
const PER_NAMESPACE = Number(process.env.BENCH_PER_NAMESPACE ?? 1000);
type Spread = { names: string[]; of: (i: number) => string; has: (ns: string | undefined) => boolean };
async function spread(prefix: string): Promise<Spread> {
  const names: string[] = [];
  for (let k = 0; k < Math.ceil(N / PER_NAMESPACE); k++) names.push(await namespace(c, prefix));
  namespaces.push(...names);
  const set = new Set(names);
  return { names, of: (i) => names[Math.floor(i / PER_NAMESPACE)]!, has: (ns) => ns !== undefined && set.has(ns) };
}
/** How long clearing may show no progress (BENCH_CLEAR_STALL_S, 600 s). */
const CLEAR_STALL_MS = Number(process.env.BENCH_CLEAR_STALL_S ?? 600) * 1000;
/**
 * Deletes the group's namespaces and waits (untimed) until they and what they held are gone, so
 * the next phase does not share the control plane with this one's leftovers.
 */
async function clear(group: Spread, what: string): Promise<void> {
  phase(`clearing ${what}: ${group.names.length} namespaces`);
  /** What a terminating namespace still holds: its pods, then what the namespace controller deletes slowest (Services, Events). */
  const objectsIn = async (n: string) => {
    const counts = await Promise.all(
      [Types.Pod, Types.Service, Types.Event].map(async (t) => {
        const page = await c.list(t, { namespace: n, limit: 1 });
        return page.items.length + (page.metadata.remainingItemCount ?? 0);
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  };
  const found = (n: string) => c.getOrUndefined<KubeObject & { status?: { conditions?: Condition[] } }>(Types.Namespace, undefined, n);
  /** Objects and namespaces left; a namespace not yet Terminating is deleted (again: a refused or lost delete is not waited on). */
  const left = async () => {
    const counts = await Promise.all(
      group.names.map(async (n) => {
        const ns = await found(n);
        if (!ns) return 0;
        if (!ns.metadata.deletionTimestamp) {
          await c.delete(Types.Namespace, undefined, n).catch((e: unknown) => {
            if (!isNotFound(e)) console.log(`  deleting namespace ${n}: ${String(e)}; trying again`);
          });
        }
        return 1 + (await objectsIn(n));
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  };
  /** Why namespaces are still there: the namespace controller's failing conditions. */
  const why = async () => {
    const stuck = (await Promise.all(group.names.map(found))).flatMap((ns) => ns?.status?.conditions?.filter((x) => x.status === "True").map((x) => `${x.type}: ${x.message.slice(0, 160)}`) ?? []);
    return `${await left()} objects and namespaces left\n${tally(stuck, 3)}`;
  };
  const target = await left();
  // The namespace controller deletes a namespace's content type by type and backs off when a
  // large delete times out, so progress can pause for minutes: a longer bound than other waits.
  await waitForCount(`clearing ${what}: pods, services, events and namespaces gone`, target, async () => target - (await left()), why, CLEAR_STALL_MS, 2000);
  for (const n of group.names) namespaces.splice(namespaces.indexOf(n), 1);
}
const pendingIn = async (group: Spread) => (await Promise.all(group.names.map((n) => pendingPods(c, n)))).join("\n");

type Deployment = KubeObject & { status?: { availableReplicas?: number } };
/** Times from t0 until every Deployment in the group's namespaces is available, watching (not polling the API). */
async function deploymentsAvailable(group: Spread, what: string): Promise<void> {
  const inf = new Informer<Deployment>(c, Types.Deployment, silentLogger());
  const stop = new AbortController();
  inf.start(stop.signal);
  await inf.waitForSync();
  try {
    const available = () => inf.store.list().filter((d) => group.has(d.metadata.namespace) && d.status?.availableReplicas === 1).length;
    await waitForCount(what, N, available, () => pendingIn(group));
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
  const fairNs = await spread("bench-fair");
  const fairClient = await client();
  const t0 = performance.now();
  let done = 0;
  const stop = sayProgress("fair ceiling: Apps written", N, () => done);
  // As many writers in flight as Berth's run has: the Apps' creators and the App workers.
  await pool(N, WIDTH + CONCURRENCY, async (i) => {
    await fairWrites(fairClient, fairNs.of(i), i);
    done++;
  });
  stop();
  const accepted = performance.now() - t0;
  await deploymentsAvailable(fairNs, "fair ceiling: Deployments available");
  fairClient.close();
  return { accepted, ready: performance.now() - t0 };
}

/** The children of N apps (Secret, Deployment, Service) written directly, until all are available. */
async function plainCeiling(): Promise<{ accepted: number; ready: number }> {
  phase(`plain ceiling: ${N} Deployments, Services, Secrets`);
  const direct = await spread("bench-direct");
  const labels = (i: number) => ({ app: `d-${i}` });
  const t0 = performance.now();
  let written = 0;
  const stopSaying = sayProgress("plain ceiling: apps written", N, () => written);
  await pool(N, WIDTH, async (i) => {
    await c.create(Types.Secret, { metadata: { name: `d-${i}-v1-env`, namespace: direct.of(i) }, data: { A: "MQ==" } });
    await c.create(Types.Deployment, {
      metadata: { name: `d-${i}-web`, namespace: direct.of(i) },
      spec: { replicas: 1, selector: { matchLabels: labels(i) }, template: { metadata: { labels: labels(i) }, spec: { containers: [{ name: "web", image: "nginx", envFrom: [{ secretRef: { name: `d-${i}-v1-env` } }] }] } } },
    });
    await c.create(Types.Service, { metadata: { name: `d-${i}-web`, namespace: direct.of(i) }, spec: { selector: labels(i), ports: [{ port: 80 }] } });
    written++;
  });
  stopSaying();
  const accepted = performance.now() - t0;
  // ... and until the cluster has them all running (the same controllers, scheduler and KWOK work Berth waits for).
  await deploymentsAvailable(direct, "plain ceiling: Deployments available");
  const ready = performance.now() - t0;
  await clear(direct, "the plain ceiling");
  return { accepted, ready };
}

type Timed = { accepted: number; ready: number };
const plainFigures = (plain: Timed | undefined, allReady: number): Record<string, number | string> =>
  plain
    ? {
        "plain ceiling: accepted (s)": seconds(plain.accepted),
        "plain ceiling: -> all Deployments available (s)": seconds(plain.ready),
        "Berth / plain ceiling (available)": allReady / plain.ready,
      }
    : {};

/**
 * Berth: N Apps through the operator (in this process, its requests counted), a restart over
 * them, `berth run` compiled over them; then the fleet is cleared. Returns the time to all Ready.
 */
async function berthPhase(plain: Timed | undefined): Promise<number> {
  // Berth: N Apps through the operator.
  phase(`Berth: ${N} Apps`);
  const ns = await spread("bench-apps");
  const appsIn = (m: Manager) => m.informers.informerFor<App>(BerthTypes.App).store.list().filter((a) => ns.has(a.metadata.namespace));
  const requests = new Map<string, number>();
  c.counter = { count: (verb, path) => requests.set(`${verb} ${resourceOfPath(path)}`, (requests.get(`${verb} ${resourceOfPath(path)}`) ?? 0) + 1) };
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
  let t0 = performance.now();
  const stopCreating = sayProgress("Berth: Apps created", N, () => appsIn(manager).length);
  await pool(N, WIDTH, (i) => creator.create<App>(BerthTypes.App, { metadata: { name: `a-${i}`, namespace: ns.of(i) }, spec: appSpec }));
  stopCreating();
  const ready = () => appsIn(manager).filter((a) => isTrue(a.status?.conditions, "Ready")).length;
  await waitForCount("Berth: Apps Ready", N, ready, async () => `${notReady(appsIn(manager))}\n${await pendingIn(ns)}`);
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
    const mine = [...seen].filter((k) => ns.has(k.split("/")[0])).length;
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

  report(`apps (${N} Apps, one process each, ${CONCURRENCY} workers)`, {
    "Apps created -> all Ready (s)": seconds(allReady),
    ...plainFigures(plain, allReady),
    "operator API requests per App": total / N,
    ...Object.fromEntries([...byVerb].map(([v, n]) => [`  ${v} per App`, n / N])),
    ...Object.fromEntries(perResource.map(([k, n]) => [`    ${k} per App`, n / N])),
    "in-process heap before (MiB)": heapBefore,
    "in-process heap at N, after GC (MiB)": heapAtN,
    "in-process peak heap (MiB)": peakHeap,
    "in-process RSS at N (MiB)": mib(memory.rss),
    "in-process peak RSS (MiB)": peakRss,
    "restart: start -> caches synced (s)": seconds(synced),
    "restart: start -> every App reconciled (s)": seconds(reconciledAll),
    "restart: writes": restartWrites,
    "restart: reads (LIST + WATCH)": restartReads,
  });

  // The operator as users run it: `berth run`, compiled, its own process, over the N Apps.
  phase("operator process over the N Apps: restart, memory, API reads");
  // Not spawnSync: this process's event loop keeps running meanwhile, so its idle keep-alive
  // connections that kube-apiserver closes are seen closed (a blocked loop later wrote requests
  // into them and the client crashed on "socket hang up").
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", new URL("./operator-process.ts", import.meta.url).pathname], {
    env: { ...process.env, BENCH_NS: ns.names.join(","), BENCH_N: String(N) },
    stdio: "inherit",
  });
  const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
  if (code !== 0) console.log(`operator process: failed (exit ${code ?? signal}); BENCH_KEEP=1 keeps the namespaces to run bench/operator-process.ts again`);

  // Cleared for the fair ceiling (Apps made before would be Berth's to reconcile once it
  // starts); BENCH_KEEP=1 keeps the fleet, and the fair ceiling then shares the cluster with it.
  if (process.env.BENCH_KEEP !== "1") await clear(ns, "Berth's fleet");
  return allReady;
}

try {
  // Each phase on a cluster cleared of the one before; BENCH_PHASES picks them (e.g. "berth,fair").
  const plain = PHASES.has("plain") ? await plainCeiling() : undefined;
  const allReady = PHASES.has("berth") ? await berthPhase(plain) : undefined;
  const fair = PHASES.has("fair") ? await fairCeiling() : undefined;
  report(`apps: summary (${N} Apps; phases ${[...PHASES].join(", ")})`, {
    ...(plain ? { "plain ceiling: -> all Deployments available (s)": seconds(plain.ready) } : {}),
    ...(fair ? { "fair ceiling: accepted (s)": seconds(fair.accepted), "fair ceiling: -> all Deployments available (s)": seconds(fair.ready) } : {}),
    ...(allReady !== undefined ? { "Berth: Apps created -> all Ready (s)": seconds(allReady) } : {}),
    ...(allReady !== undefined && fair ? { "Berth / fair ceiling (available)": allReady / fair.ready } : {}),
    ...(allReady !== undefined ? plainFigures(plain, allReady) : {}),
    ...(plain && fair ? { "fair / plain (the design's extra objects)": fair.ready / plain.ready } : {}),
  });
} finally {
  c.counter = undefined;
  if (process.env.BENCH_KEEP === "1") console.log(`kept: ${namespaces.join(" ")}`);
  else for (const n of namespaces) await c.delete(Types.Namespace, undefined, n).catch(() => undefined);
  c.close();
}
process.exit(0);
