// Wake-from-zero benchmark, against the cluster of the current kubeconfig, which needs the real
// node (hack/cluster.sh with BERTH_REAL_NODES=1). One App (hello.py, readiness probe every 1 s)
// is put to sleep and woken BENCH_WAKES times per path, the paths taking turns:
//   - router:    GET to the router with the App's Host (127.0.0.1);
//   - clusterip: GET from the host to the App's ClusterIP: kube-proxy sends it to the router's
//                sleeping EndpointSlice (the router listens on the real node's bridge address).
// For each wake, from the same run: request -> first byte of the answer, and the pod that answered
// (named in its body): created -> Ready, both as this process saw them on an API server watch.
// "after Ready" is first byte minus the moment the pod's Ready condition was seen: what the
// router adds once the pod is ready (EndpointSlice propagation, the informer, the proxy). The
// controllers and the router run in this process (as `npm start` runs them).
// Run: npm run bench:wake   (BENCH_WAKES=5 per path)
import http from "node:http";
import { loadavg, cpus } from "node:os";
import { setupAppController } from "../src/controllers/app-controller.ts";
import { setupPoolController } from "../src/controllers/pool-controller.ts";
import type { KubeObject } from "../src/kube/resource.ts";
import { Types } from "../src/kube/resource.ts";
import { silentLogger } from "../src/log.ts";
import type { App } from "../src/model/kinds.ts";
import { BerthTypes } from "../src/model/kinds.ts";
import { loadRouterConfig } from "../src/router/config.ts";
import type { EndpointSlice } from "../src/router/endpoints.ts";
import { EndpointSliceType } from "../src/router/endpoints.ts";
import { isRouterSlice } from "../src/router/sleeping-slice.ts";
import { startRouter } from "../src/router/start.ts";
import { Manager } from "../src/runtime/manager.ts";
import { percentile, realNodePool, report } from "./support.ts";

const WAKES = Number(process.env.BENCH_WAKES ?? 5);
const BRIDGE = "10.245.1.1";
const DOMAIN = "wake.localhost";

const { c, ns, poolName, registry, remove } = await realNodePool("bench-wake", "wake benchmark");

type Pod = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };
const log = silentLogger();
const manager = new Manager({ client: c, log });
setupAppController(manager, 2);
setupPoolController(manager);
// Pods of the bench namespace, timed on the watch: first seen, first seen Ready.
const created = new Map<string, number>();
const readyAt = new Map<string, number>();
const pods = manager.informers.informerFor<Pod>(Types.Pod, { namespace: ns });
const seen = (p: Pod) => {
  const name = p.metadata.name ?? "";
  if (!created.has(name)) created.set(name, performance.now());
  if (!readyAt.has(name) && p.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True")) readyAt.set(name, performance.now());
};
pods.addHandler({ onAdd: seen, onUpdate: (_, p) => seen(p) });
const abort = new AbortController();
const running = manager.run(abort.signal);
await manager.informers.waitForSync();

const router = await startRouter(
  { client: c, log, wake: true },
  {
    ...loadRouterConfig([], {}),
    addresses: ["127.0.0.1", BRIDGE],
    port: 0,
    metricsPort: 0,
    appsDomain: DOMAIN,
    upstreamNetworks: ["10.245.0.0/16"],
    accessLog: false,
    requestTimeoutMs: 120_000,
    activatorAddress: BRIDGE,
  },
);

// Idle scaling on (so the Service follows the router while asleep); the bench puts it to sleep.
await c.create<App>(BerthTypes.App, {
  metadata: { name: "wake", namespace: ns },
  spec: {
    image: `${registry}/berth/hello:1`,
    pool: poolName,
    state: "Sleeping",
    idle: { timeoutMinutes: 60 },
    // A shell that exits on SIGTERM (python as PID 1 would ignore it for the 30 s grace period).
    processes: [{ name: "web", replicas: 1, ports: [{ port: 8080 }], command: ["sh", "-c", "trap 'exit 0' TERM; python3 /app/hello.py & wait"], healthCheck: { path: "/healthz", periodSeconds: 1 } }],
  },
});

const until = async (what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 120_000) => {
  const by = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > by) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
const serviceSlices = async () => (await c.list<EndpointSlice>(EndpointSliceType, { namespace: ns, labelSelector: "kubernetes.io/service-name=wake-web" })).items;
const readyAddresses = (slices: EndpointSlice[]) => slices.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses));
/** Asleep: no pod of its own ready, and the router's slice is the Service's only ready endpoint. */
const asleep = async () => {
  const slices = await serviceSlices();
  return slices.some(isRouterSlice) && readyAddresses(slices).join() === BRIDGE;
};

interface Wake {
  path: string;
  firstByteMs: number;
  requestToPodMs: number;
  podReadyMs: number;
  afterReadyMs: number;
  /** The wake minus the pod's own start-to-ready: control plane reaction plus afterReadyMs. */
  overPodMs: number;
}

/** One GET on a connection of its own; resolves at the first byte of the answer, with the body. */
function timedGet(o: http.RequestOptions): Promise<{ firstByte: number; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ ...o, agent: false, timeout: 120_000 }, (res) => {
      const firstByte = performance.now();
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (ch: string) => (body += ch));
      res.on("end", () => resolve({ firstByte, status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("no answer in 120 s")));
    req.on("error", reject);
  });
}

await until("the Service", async () => (await c.getOrUndefined(Types.Service, ns, "wake-web")) !== undefined);
const ip = (await c.get<KubeObject & { spec: { clusterIP: string } }>(Types.Service, ns, "wake-web")).spec.clusterIP;
const wakes: Wake[] = [];
const load0 = loadavg()[0] ?? 0;
for (let i = 0; i < WAKES * 2; i++) {
  const path = i % 2 === 0 ? "router" : "clusterip";
  await c.mergePatch(BerthTypes.App, ns, "wake", { spec: { state: "Sleeping" } });
  await until("asleep", asleep);
  // kube-proxy programs the slice change in its next sync (iptables mode: at most every 1 s).
  await new Promise((r) => setTimeout(r, 2000));
  const t0 = performance.now();
  const a = await timedGet(path === "router" ? { host: "127.0.0.1", port: router.port, path: "/", headers: { host: `wake.${DOMAIN}` } } : { host: ip, port: 8080, path: "/" });
  const pod = /from (\S+) /.exec(a.body)?.[1] ?? "";
  if (a.status !== 200 || !created.has(pod) || !readyAt.has(pod)) throw new Error(`wake ${i} (${path}): ${a.status} ${a.body.trim()} (pod ${pod} seen: ${created.has(pod)}, ready: ${readyAt.has(pod)})`);
  const podCreated = created.get(pod) ?? NaN;
  const podReady = readyAt.get(pod) ?? NaN;
  wakes.push({ path, firstByteMs: a.firstByte - t0, requestToPodMs: podCreated - t0, podReadyMs: podReady - podCreated, afterReadyMs: a.firstByte - podReady, overPodMs: a.firstByte - t0 - (podReady - podCreated) });
  console.error(`wake ${i + 1}/${WAKES * 2} (${path}): first byte ${(a.firstByte - t0).toFixed(0)} ms, pod created->Ready ${(podReady - podCreated).toFixed(0)} ms, first byte after Ready ${(a.firstByte - podReady).toFixed(0)} ms`);
}

// Steady state, awake: the same request through the router and through the ClusterIP (the pod).
async function steady(o: http.RequestOptions, n = 200): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await new Promise<void>((resolve, reject) => {
      http
        .get({ ...o, agent }, (res) => {
          res.resume();
          res.on("end", () => resolve());
        })
        .on("error", reject);
    });
    lat.push(performance.now() - t);
  }
  agent.destroy();
  return percentile(lat, 50);
}
await until("awake", async () => !(await serviceSlices()).some(isRouterSlice));
const steadyRouter = await steady({ host: "127.0.0.1", port: router.port, path: "/", headers: { host: `wake.${DOMAIN}` } });
const steadyService = await steady({ host: ip, port: 8080, path: "/" });

const figures: Record<string, number | string> = {};
for (const path of ["router", "clusterip"]) {
  const w = wakes.filter((x) => x.path === path);
  for (const [label, key] of [
    ["request -> first byte (wake)", "firstByteMs"],
    ["pod created -> Ready (watch)", "podReadyMs"],
    ["request -> pod created", "requestToPodMs"],
    ["first byte after pod Ready (added)", "afterReadyMs"],
    ["wake minus pod created -> Ready", "overPodMs"],
  ] as const) {
    const xs = w.map((x) => x[key]);
    figures[`${path}: ${label} p50 / p90 (ms)`] = `${percentile(xs, 50).toFixed(0)} / ${percentile(xs, 90).toFixed(0)}`;
  }
}
figures["steady state, awake: p50 via router / via ClusterIP (ms)"] = `${steadyRouter.toFixed(2)} / ${steadyService.toFixed(2)}`;
figures["load average (1 min) at start / end"] = `${load0.toFixed(1)} / ${(loadavg()[0] ?? 0).toFixed(1)}`;
report(`Wake from zero (${WAKES} wakes per path, 1 pod on the real node, readiness probe every 1 s; ${cpus().length} CPUs)`, figures);

await router.close();
abort.abort();
await running;
await manager.close();
await remove();
process.exit(0);
