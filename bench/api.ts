// API server benchmark, against the cluster of the current kubeconfig, with N Apps:
// p50/p99 latency and requests/s of GET /1.0/apps, Deis GET /v1/apps (pages of 100) and
// GET /1.0/apps/{app}, beside a direct LIST (whole, and pages of 100)/GET of the App CRs from
// kube-apiserver in the same run; then the time from
// POST /1.0/apps/{app}/deploy to the new pods Ready (the deploy stream's final OK).
// Run: npm run bench:api   (BENCH_N=1000 by default)
import { execFileSync } from "node:child_process";
import { Types } from "../src/kube/resource.ts";
import type { App, Pool, Team } from "../src/model/kinds.ts";
import { BerthTypes } from "../src/model/kinds.ts";
import { isTrue } from "../src/runtime/conditions.ts";
import { ensurePodRoom } from "./capacity.ts";
import { notReady, pendingPods, waitForCount } from "./progress.ts";
import { client, loadFor, namespace, pool, report, startBerthApi } from "./support.ts";

const N = Number(process.env.BENCH_N ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WIDTH = 8;
execFileSync("kubectl", ["apply", "--server-side", "--force-conflicts", "-f", new URL("../crds/", import.meta.url).pathname], { stdio: "ignore" });
try {
  execFileSync("kubectl", ["create", "namespace", "berth-system"], { stdio: "ignore" });
} catch {
  /* exists */
}
const c = await client();
console.log(`room: ${await ensurePodRoom(c, N)}`);
const ns = await namespace(c, "bench-api");
const team = `bench-${ns.slice(-6)}`;
await c.create<Team>(BerthTypes.Team, { metadata: { name: team }, spec: {} });
const poolName = `pool-${ns.slice(-6)}`;
await c.create<Pool>(BerthTypes.Pool, { metadata: { name: poolName }, spec: { namespace: ns, public: true } });
await pool(N, 32, (i) =>
  c.create<App>(BerthTypes.App, { metadata: { name: `b${i}-${ns.slice(-6)}`, namespace: ns }, spec: { image: "nginx:1.27", owner: team, pool: poolName, processes: [{ name: "web", replicas: 1, ports: [{ port: 80 }] }] } }),
);

const { manager, base, auth, stop } = await startBerthApi(c, ns.slice(-6), 8);

const load = (fn: (i: number) => Promise<unknown>) => loadFor(SECONDS, WIDTH, fn);
const get = async (url: string) => {
  const r = await fetch(url, { headers: auth });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  await r.arrayBuffer();
};

const PAGE = 100;
const pages = Math.ceil(N / PAGE);
const list = await load(() => get(`${base}/1.0/apps`));
const directList = await load(() => c.list(BerthTypes.App, { namespace: ns }));
const deisPage = await load((i) => get(`${base}/v1/apps?page=${1 + (i % pages)}&page_size=${PAGE}`));
const directPage = await load(() => c.list(BerthTypes.App, { namespace: ns, limit: PAGE }));
const info = await load((i) => get(`${base}/1.0/apps/b${i % N}-${ns.slice(-6)}`));
const directGet = await load((i) => c.get(BerthTypes.App, ns, `b${i % N}-${ns.slice(-6)}`));

// Deploy to Ready, for one app, once the fleet has settled (every App Ready).
const appStore = manager.informers.informerFor<App>(BerthTypes.App).store;
const settleStart = performance.now();
const readyApps = () => appStore.list(ns).filter((a) => isTrue(a.status?.conditions, "Ready")).length;
await waitForCount("Apps Ready", N, readyApps, async () => `${notReady(appStore.list(ns))}\n${await pendingPods(c, ns)}`, undefined, 250);
const settled = performance.now() - settleStart;
const t0 = performance.now();
const res = await fetch(`${base}/1.0/apps/b0-${ns.slice(-6)}/deploy`, { method: "POST", headers: { ...auth, "Content-Type": "application/x-www-form-urlencoded" }, body: "image=nginx:1.28" });
const text = await res.text();
const deployMs = performance.now() - t0;

report(`API server (${N} Apps, ${WIDTH} requests in flight, ${SECONDS} s each)`, {
  "GET /1.0/apps p50 (ms)": list.p50,
  "GET /1.0/apps p99 (ms)": list.p99,
  "GET /1.0/apps requests/s": list.rps,
  "direct LIST apps p50 (ms)": directList.p50,
  "direct LIST apps p99 (ms)": directList.p99,
  "direct LIST apps requests/s": directList.rps,
  [`Deis GET /v1/apps?page_size=${PAGE} p50 (ms)`]: deisPage.p50,
  [`Deis GET /v1/apps?page_size=${PAGE} p99 (ms)`]: deisPage.p99,
  [`Deis GET /v1/apps?page_size=${PAGE} requests/s`]: deisPage.rps,
  [`direct LIST apps limit=${PAGE} p50 (ms)`]: directPage.p50,
  [`direct LIST apps limit=${PAGE} p99 (ms)`]: directPage.p99,
  [`direct LIST apps limit=${PAGE} requests/s`]: directPage.rps,
  "GET /1.0/apps/{app} p50 (ms)": info.p50,
  "GET /1.0/apps/{app} p99 (ms)": info.p99,
  "GET /1.0/apps/{app} requests/s": info.rps,
  "direct GET app p50 (ms)": directGet.p50,
  "direct GET app p99 (ms)": directGet.p99,
  "direct GET app requests/s": directGet.rps,
  "fleet settled (all Apps Ready) after reads (s)": settled / 1000,
  "POST deploy -> new pods Ready (s)": deployMs / 1000,
  "deploy stream ended with": text.trimEnd().split("\n").at(-1) ?? "",
});
await stop();
await c.delete(Types.Namespace, undefined, ns).catch(() => undefined);
await c.delete(BerthTypes.Pool, undefined, poolName).catch(() => undefined);
await c.delete(BerthTypes.Team, undefined, team).catch(() => undefined);
c.close();
process.exit(0);
