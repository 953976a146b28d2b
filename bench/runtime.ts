// Controller runtime benchmark, against the cluster of the current kubeconfig:
//  1. the API server's own create throughput for 1,000 ConfigMaps (the ceiling);
//  2. a no-op controller under a burst of 1,000 creates: watch-event-to-reconcile-start
//     latency p50/p99 and reconciles per second;
//  3. cache memory per 10,000 objects.
// Run: npm run bench:runtime  (node --expose-gc; hack/cluster.sh up first, or any cluster)
import type { KubeObject } from "../src/kube/resource.ts";
import { Types, keyOf } from "../src/kube/resource.ts";
import { silentLogger } from "../src/log.ts";
import { Manager } from "../src/runtime/manager.ts";
import { Informer } from "../src/runtime/informer.ts";
import { client, heapMB, namespace, percentile, pool, report } from "./support.ts";

const N = Number(process.env.BENCH_N ?? 1000);
const CACHE_N = Number(process.env.BENCH_CACHE_N ?? 10_000);
const WIDTH = 32;
const c = await client();
const ns = await namespace(c, "bench-rt");
const cm = (name: string, label: string): KubeObject => ({ metadata: { name, namespace: ns, labels: { bench: label } }, data: { k: "v".repeat(64) } });

// 1. Ceiling: direct creates.
let t0 = performance.now();
await pool(N, WIDTH, (i) => c.create(Types.ConfigMap, cm(`direct-${i}`, "direct")));
const directPerSec = N / ((performance.now() - t0) / 1000);

// 2. No-op controller under a burst.
const seenAt = new Map<string, number>();
const startedAt = new Map<string, number>();
const manager = new Manager({ client: c, log: silentLogger() });
const selector = { namespace: ns, labelSelector: "bench=burst" };
const ctrl = manager.controller("bench-noop").for(Types.ConfigMap, selector).withOptions({ concurrency: 4 }).complete({ reconcile: async () => undefined });
manager.informers.informerFor(Types.ConfigMap, selector).addHandler({ onAdd: (o) => seenAt.set(keyOf(o), performance.now()) });
ctrl.onReconcileStart = (key) => {
  if (!startedAt.has(key)) startedAt.set(key, performance.now());
};
const abort = new AbortController();
const running = manager.run(abort.signal);
await manager.informers.waitForSync();
t0 = performance.now();
await pool(N, WIDTH, (i) => c.create(Types.ConfigMap, cm(`burst-${i}`, "burst")));
const createdIn = performance.now() - t0;
while (startedAt.size < N) await new Promise((r) => setTimeout(r, 20));
const firstStart = Math.min(...startedAt.values());
const lastStart = Math.max(...startedAt.values());
const latencies = [...startedAt].map(([k, t]) => t - (seenAt.get(k) ?? t));
abort.abort();
await running;
await manager.close();

// 3. Cache memory per 10,000 objects.
await pool(CACHE_N, WIDTH, (i) => c.create(Types.ConfigMap, cm(`mem-${i}`, "mem")));
const before = heapMB();
const inf = new Informer(c, Types.ConfigMap, silentLogger(), { namespace: ns, labelSelector: "bench=mem" });
const stop = new AbortController();
inf.start(stop.signal);
await inf.waitForSync();
const after = heapMB();
stop.abort();

report(`controller runtime (${N} objects; cache: ${CACHE_N} ConfigMaps of ~64 B data)`, {
  "API server direct creates/s (ceiling)": directPerSec,
  "creates/s during the burst (with controller)": N / (createdIn / 1000),
  "no-op reconciles/s (first to last start)": N / Math.max(0.001, (lastStart - firstStart) / 1000),
  "reconciles / API ceiling": N / Math.max(0.001, (lastStart - firstStart) / 1000) / directPerSec,
  "event -> reconcile start p50 (ms)": percentile(latencies, 50),
  "event -> reconcile start p99 (ms)": percentile(latencies, 99),
  "cache heap per 10,000 objects (MiB)": ((after - before) * 10_000) / CACHE_N,
  "cache heap per object (bytes)": ((after - before) * 1024 * 1024) / CACHE_N,
});
await c.delete(Types.Namespace, undefined, ns);
c.close();
process.exit(0);
