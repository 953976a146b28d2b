// Router benchmark, against the cluster of the current kubeconfig, which needs the real node
// (hack/cluster.sh with BERTH_REAL_NODES=1): one App with one pod running a small Node.js HTTP
// server; requests/s and p50/p99 latency through `berth router` (its own process, access log on,
// and another with it off) and straight to the pod IP, in the same run, with the ratios. The
// three paths take turns for BENCH_ROUNDS rounds and the medians are reported, so a neighbour's
// burst of CPU on a shared machine does not land on one path only.
// The router runs compiled (dist/, built here with tsc) as the image runs it; BENCH_FROM_SOURCE=1
// runs it through tsx as `npm start` does. The router's CPU per 1,000 requests (from /proc) is
// printed too: unlike requests/s it hardly depends on what else the machine is doing.
// Run: npm run bench:router   (BENCH_SECONDS=3 per path and round, BENCH_ROUNDS=3,
//      BENCH_CONCURRENCY=32, BENCH_WARMUP_SECONDS=1)
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import http from "node:http";
import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import type { AddressInfo } from "node:net";
import { setupAppController } from "../src/controllers/app-controller.ts";
import { setupPoolController } from "../src/controllers/pool-controller.ts";
import { silentLogger } from "../src/log.ts";
import type { App } from "../src/model/kinds.ts";
import { BerthTypes } from "../src/model/kinds.ts";
import { isTrue } from "../src/runtime/conditions.ts";
import { Manager } from "../src/runtime/manager.ts";
import type { EndpointSlice } from "../src/router/endpoints.ts";
import { EndpointSliceType, readyEndpoints } from "../src/router/endpoints.ts";
import { percentile, realNodePool, report } from "./support.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const FROM_SOURCE = process.env.BENCH_FROM_SOURCE === "1";
const REAL_NETWORK = "10.245.0.0/16";
const root = new URL("..", import.meta.url).pathname;
const DOMAIN = "bench.localhost";

const { c, ns, poolName, registry, remove } = await realNodePool("bench-router", "router benchmark");
// A small keep-alive HTTP server: the app should not be the bottleneck of either path.
const server = "require('http').createServer((q,s)=>s.end('hello from '+require('os').hostname()+'\\n')).listen(8080)";
await c.create<App>(BerthTypes.App, {
  metadata: { name: "bench", namespace: ns },
  spec: { image: `${registry}/berth/node:20`, pool: poolName, processes: [{ name: "web", replicas: 1, ports: [{ port: 8080 }], command: ["node", "-e", server] }] },
});

const log = silentLogger();
const manager = new Manager({ client: c, log });
setupAppController(manager, 2);
setupPoolController(manager);
const abort = new AbortController();
const running = manager.run(abort.signal);
const apps = manager.informers.informerFor<App>(BerthTypes.App).store;
await manager.informers.waitForSync();
const readyBy = Date.now() + 180_000;
while (!isTrue(apps.get(`${ns}/bench`)?.status?.conditions, "Ready")) {
  if (Date.now() > readyBy) throw new Error("the bench App did not become Ready in 180 s");
  await new Promise((r) => setTimeout(r, 250));
}
const slices = await c.list<EndpointSlice>(EndpointSliceType, { namespace: ns, labelSelector: "kubernetes.io/service-name=bench-web" });
const [pod] = readyEndpoints(slices.items, "http", (a) => a.startsWith("10.245."));
if (!pod) throw new Error("the bench App has no ready endpoint on the real node");

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** `berth router` as its own process, ready once it answers for the bench host. */
async function startRouterProcess(accessLog: boolean): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const args = FROM_SOURCE ? ["--import", "tsx", `${root}src/main.ts`, "router"] : [`${root}dist/main.js`, "router"];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      BERTH_ROUTER_PORT: String(port),
      BERTH_ROUTER_METRICS_PORT: String(await freePort()),
      BERTH_APPS_DOMAIN: DOMAIN,
      BERTH_ROUTER_UPSTREAM_CIDRS: REAL_NETWORK,
      BERTH_ROUTER_ACCESS_LOG: String(accessLog),
    },
    stdio: ["ignore", "ignore", "ignore"],
  });
  const by = Date.now() + 60_000;
  for (;;) {
    const status = await once(agentFor(1), port, `bench.${DOMAIN}`).catch(() => 0);
    if (status === 200) return { port, child };
    if (Date.now() > by) throw new Error(`the router did not answer 200 in 60 s (last status ${status})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const agentFor = (n: number) => new http.Agent({ keepAlive: true, maxSockets: n, maxFreeSockets: n });

function once(agent: http.Agent, port: number, host: string, address = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: address, port, path: "/", headers: { host }, agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Requests answered. */
  count: number;
  /** CPU ms of the router process per 1,000 requests (NaN for the direct path). */
  cpuPer1000: number;
}

/** CONCURRENCY keep-alive connections, each sending requests back to back for `seconds`. */
async function load(address: string, port: number, host: string, seconds: number, routerPid?: number): Promise<Figures> {
  const cpu0 = cpuMs(routerPid);
  const agent = agentFor(CONCURRENCY);
  const lat: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        const status = await once(agent, port, host, address).catch(() => 0);
        if (status === 200) lat.push(performance.now() - s);
        else errors++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  return { rps: lat.length / elapsed, p50: percentile(lat, 50), p99: percentile(lat, 99), errors, count: lat.length, cpuPer1000: ((cpuMs(routerPid) - cpu0) / lat.length) * 1000 };
}

const median = (xs: number[]): number => percentile(xs, 50);

/** CPU time (user + system) of a process so far, in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

if (!FROM_SOURCE) execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });

const logged = await startRouterProcess(true);
const quiet = await startRouterProcess(false);
const paths: Record<string, { address: string; port: number; pid?: number }> = {
  direct: { address: pod.address, port: pod.port },
  "router (access log on)": { address: "127.0.0.1", port: logged.port, pid: logged.child.pid },
  "router (access log off)": { address: "127.0.0.1", port: quiet.port, pid: quiet.child.pid },
};
type Path = "direct" | "router (access log on)" | "router (access log off)";
const rounds = new Map<Path, Figures[]>(Object.keys(paths).map((k) => [k as Path, []]));
for (const { address, port } of Object.values(paths)) await load(address, port, `bench.${DOMAIN}`, WARMUP);
const load0 = loadavg()[0] ?? 0;
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, { address, port, pid }] of Object.entries(paths)) rounds.get(name as Path)?.push(await load(address, port, `bench.${DOMAIN}`, SECONDS, pid));
}
logged.child.kill("SIGTERM");
quiet.child.kill("SIGTERM");

const figures: Record<string, number | string> = {};
const med = (name: Path, f: keyof Figures) => median((rounds.get(name) ?? []).map((x) => x[f]));
for (const name of Object.keys(paths) as Path[]) {
  figures[`${name} requests/s`] = med(name, "rps");
  figures[`${name} p50 (ms)`] = med(name, "p50");
  figures[`${name} p99 (ms)`] = med(name, "p99");
  if (name !== "direct") figures[`${name} CPU ms per 1,000 requests`] = med(name, "cpuPer1000");
}
const direct = rounds.get("direct") ?? [];
const ratios = (name: Path) => (rounds.get(name) ?? []).map((x, i) => x.rps / (direct[i]?.rps ?? NaN));
for (const name of ["router (access log on)", "router (access log off)"] as Path[]) {
  const rs = ratios(name);
  figures[`ratio ${name}/direct requests/s, median (min-max)`] = `${median(rs).toFixed(2)} (${Math.min(...rs).toFixed(2)}-${Math.max(...rs).toFixed(2)})`;
}
figures["added p50 latency, access log on (ms)"] = med("router (access log on)", "p50") - med("direct", "p50");
figures["failed requests (all rounds)"] = [...rounds.values()].flat().reduce((n, x) => n + x.errors, 0);
figures["load average (1 min) at start / end"] = `${load0.toFixed(1)} / ${(loadavg()[0] ?? 0).toFixed(1)}`;
report(`Router (${FROM_SOURCE ? "from source, tsx" : "compiled"}; 1 pod on the real node, ${CONCURRENCY} keep-alive connections, ${ROUNDS} rounds of ${SECONDS} s per path, medians)`, figures);

abort.abort();
await running;
await manager.close();
await remove();
process.exit(0);
