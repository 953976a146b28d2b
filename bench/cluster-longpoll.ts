// Cluster API long-polling benchmark, against the cluster of the current kubeconfig: BENCH_N
// clients (1,000 by default) wait on GET /v1/jobs with the current waitIndex; prints the
// API-server requests Berth's client makes while they wait (target: none beyond the shared
// watch), then, for BENCH_ROUNDS count changes, the wake latency from the change to each answer.
// Run: npm run bench:cluster
import { execFileSync } from "node:child_process";
import { apiDeps, startApi } from "../src/api/start.ts";
import { setupAppController } from "../src/controllers/app-controller.ts";
import { setupPoolController } from "../src/controllers/pool-controller.ts";
import { silentLogger } from "../src/log.ts";
import type { Pool } from "../src/model/kinds.ts";
import { BerthTypes } from "../src/model/kinds.ts";
import { Manager } from "../src/runtime/manager.ts";
import { client, percentile, report } from "./support.ts";

const N = Number(process.env.BENCH_N ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
execFileSync("kubectl", ["apply", "--server-side", "--force-conflicts", "-f", new URL("../crds/", import.meta.url).pathname], { stdio: "ignore" });
try {
  execFileSync("kubectl", ["create", "namespace", "berth-system"], { stdio: "ignore" });
} catch {
  /* exists */
}
const c = await client();
const id = Math.random().toString(16).slice(2, 8);
const [team, poolName, job] = [`bench-${id}`, `bench-lp-${id}`, `lp-${id}`];
await c.create<Pool>(BerthTypes.Pool, { metadata: { name: poolName }, spec: { default: true, public: true } });
const log = silentLogger();
const manager = new Manager({ client: c, log });
setupAppController(manager, 4);
setupPoolController(manager);
const deps = apiDeps(manager, "berth-system", log);
const api = await startApi(deps, { apiHost: "127.0.0.1", apiPort: 0 }, log);
const abort = new AbortController();
const running = manager.run(abort.signal);
await manager.informers.waitForSync();
while (!deps.ready()) await new Promise((r) => setTimeout(r, 50));
const user = await deps.identity.createUser(`${team}@example.com`, "bench-pw-1");
await deps.identity.ensureTeam(team);
await deps.identity.addToTeam(user, team);
await new Promise((r) => setTimeout(r, 500));
const { token } = await deps.identity.login(`${team}@example.com`, "bench-pw-1");
const base = `http://127.0.0.1:${api.port}`;
const headers = { Authorization: `Bearer ${token}`, "X-Berth-Team": team, "Content-Type": "application/json" };
const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body) }).then((r) => r.text());
await post("/v1/settings", { jobs: [{ name: job, image: "nginx:1.27", taskGroups: [{ name: "web", countInit: 1, countMax: 50 }] }] });
await new Promise((r) => setTimeout(r, 5000)); // let the job settle

let requests = 0;
c.counter = { count: () => requests++ };
const figures: Record<string, number | string> = { waiters: N };
const latencies: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  await new Promise((r) => setTimeout(r, 3000));
  const index = (await fetch(`${base}/v1/jobs`, { headers })).headers.get("waitIndex") ?? "0";
  const answered: number[] = [];
  const polls = Array.from({ length: N }, () => fetch(`${base}/v1/jobs`, { headers: { ...headers, waitIndex: index } }).then(async (r) => {
    answered.push(performance.now());
    await r.arrayBuffer();
  }));
  await new Promise((r) => setTimeout(r, 2000));
  const early = answered.length;
  requests = 0;
  await new Promise((r) => setTimeout(r, 3000));
  if (round === 0) figures["API-server requests while they wait 3 s"] = requests;
  if (round === 0) figures["answered before the change (index moved)"] = early;
  const changed = performance.now();
  await post("/v1/jobs/updatecounts", { jobID: job, taskGroup: "web", count: round % 2 === 0 ? 1 : -1 });
  await Promise.all(polls);
  latencies.push(...answered.slice(early).map((t) => t - changed));
}
figures["wake latency p50 (ms)"] = percentile(latencies, 50);
figures["wake latency p99 (ms)"] = percentile(latencies, 99);
figures["wake latency max (ms)"] = Math.max(...latencies);
c.counter = undefined;
report(`cluster API long polling (${N} waiters, ${ROUNDS} changes)`, figures);
abort.abort();
await running;
await api.close();
await manager.close();
await c.delete(BerthTypes.App, `pool-${poolName}`, job).catch(() => undefined);
await c.delete(BerthTypes.Pool, undefined, poolName).catch(() => undefined);
await c.delete(BerthTypes.Team, undefined, team).catch(() => undefined);
c.close();
process.exit(0);
