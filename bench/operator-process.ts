// The operator as users run it, over N Apps that are already Ready (bench/apps.ts runs this after
// its Berth phase): `berth run` compiled to JavaScript (npm run build), in its own process, with
// its controllers and its API server. Measured from outside, through its /readyz and /metrics:
// - restart: start -> caches synced -> every App reconciled once, and the writes made doing so
//   (nothing changed, so none are due);
// - memory with the N Apps (and their Releases, Deployments, Services, Pods) cached: RSS and V8 heap;
// - API reads at N: GET /1.0/apps and Deis GET /v1/apps pages of 100, p50/p99 against a direct
//   LIST of the App resources from kube-apiserver (all namespaces: the cluster holds only these
//   Apps when bench/apps.ts runs it), in the same run.
// Run: BENCH_NS=<the Apps' namespaces, comma-separated> BENCH_N=<their number> npx tsx bench/operator-process.ts
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { parse } from "yaml";
import { Types } from "../src/kube/resource.ts";
import type { User } from "../src/model/kinds.ts";
import { BerthTypes } from "../src/model/kinds.ts";
import { waitForCount } from "./progress.ts";
import { client, loadFor, report } from "./support.ts";

const namespaces = (process.env.BENCH_NS ?? "").split(",").filter(Boolean);
const N = Number(process.env.BENCH_N ?? 0);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Seconds the operator is left idle after the restart before its memory is read again. */
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 30);
const WIDTH = 8;
const PAGE = 100;
if (!namespaces.length || !N) throw new Error("BENCH_NS (the namespaces of N Ready Apps) and BENCH_N are required");
const root = new URL("../", import.meta.url).pathname;
const mib = (bytes: number) => bytes / 1024 / 1024;
/** The Node.js flags the Helm chart runs Berth's processes with (values.yaml: nodeOptions), unless BENCH_NODE_OPTIONS tries others. */
const nodeOptions = (process.env.BENCH_NODE_OPTIONS ?? (parse(readFileSync(`${root}helm/berth/values.yaml`, "utf8")) as { nodeOptions?: string }).nodeOptions ?? "").trim();

const c = await client();
await c.create(Types.Namespace, { metadata: { name: "berth-system" } }).catch(() => undefined);
execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
const [apiPort, metricsPort] = [await freePort(), await freePort()];
const api = `http://127.0.0.1:${apiPort}`;
const metricsUrl = `http://127.0.0.1:${metricsPort}`;

/** The sum of a Prometheus metric's samples whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? "").includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}
const metrics = async () => (await fetch(`${metricsUrl}/metrics`)).text();
const ok = async (url: string) => (await fetch(url).catch(() => undefined))?.ok === true;
/** Resident memory now and at its peak, from the kernel. */
const rss = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { now: mib(kb("VmRSS")), peak: mib(kb("VmHWM")) };
};

const t0 = performance.now();
const operator = spawn(process.execPath, [`${root}dist/main.js`, "run"], {
  cwd: root,
  env: {
    ...process.env,
    BERTH_API_HOST: "127.0.0.1",
    BERTH_API_PORT: String(apiPort),
    BERTH_METRICS_HOST: "127.0.0.1",
    BERTH_METRICS_PORT: String(metricsPort),
    BERTH_LEADER_ELECT: "false",
    BERTH_CONCURRENCY: process.env.BENCH_WORKERS ?? "32",
    BERTH_LOG_LEVEL: "warn",
    NODE_OPTIONS: nodeOptions,
  },
  stdio: ["ignore", "inherit", "inherit"],
});
const exited = new Promise<number | null>((resolve) => operator.once("exit", (code) => resolve(code)));
try {
  const pid = operator.pid!;
  const ready = async () => {
    if (operator.exitCode !== null) throw new Error(`berth run exited (code ${operator.exitCode}) before it was ready (NODE_OPTIONS: ${nodeOptions || "none"})`);
    return (await ok(`${metricsUrl}/readyz`)) ? 1 : 0;
  };
  await waitForCount("operator: /readyz", 1, ready, async () => "not ready", undefined, 50);
  const synced = performance.now() - t0;
  // Every App was queued once at start; the App queue drained with no worker busy means each was reconciled.
  const reconciledApps = async () => {
    const text = await metrics();
    const done = sample(text, "controller_runtime_reconcile_total", { controller: "app" });
    const idle = sample(text, "workqueue_depth", { name: "app" }) === 0 && sample(text, "controller_runtime_active_workers", { controller: "app" }) === 0;
    return idle ? done : Math.min(done, N - 1);
  };
  await waitForCount("operator: every App reconciled once", N, reconciledApps, async () => `${await reconciledApps()} reconciled`, undefined, 100);
  const confirmed = performance.now() - t0;
  const afterStart = await metrics();
  const writes = (text: string) => sample(text, "berth_kube_requests_total") - sample(text, "berth_kube_requests_total", { verb: "GET" });
  const startWrites = writes(afterStart);
  const startReads = sample(afterStart, "berth_kube_requests_total", { verb: "GET" });
  /** Which writes were made ("PATCH apps/status × 1, ..."), so a write on restart can be traced. */
  const writesMade = afterStart
    .split("\n")
    .map((line) => /^berth_kube_requests_total\{(?=.*verb="([A-Z]+)")(?=.*resource="([^"]*)").*\} (\S+)$/.exec(line))
    .filter((m) => m && m[1] !== "GET" && Number(m[3]) > 0)
    .map((m) => `${m![1]} ${m![2]} × ${m![3]}`)
    .join(", ");
  await new Promise((r) => setTimeout(r, 2000));
  const settledText = await metrics();
  const settled = {
    ...rss(pid),
    heap: mib(sample(settledText, "nodejs_heap_size_used_bytes")),
    committed: mib(sample(settledText, "nodejs_heap_size_total_bytes")),
    external: mib(sample(settledText, "nodejs_external_memory_bytes")),
  };
  /** What the caches hold ("apps 10000, pods 10000, ..."), largest first: what the memory figures are made of. */
  const cached = settledText
    .split("\n")
    .map((line) => /^berth_cache_objects\{resource="([^"]+)"\} (\S+)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[2]) > 0)
    .sort((a, b) => Number(b[2]) - Number(a[2]))
    .map((m) => `${m[1]} ${m[2]}`)
    .join(", ");
  // V8 returns memory to the system once a process goes idle (its memory reducer): the figure a
  // steady fleet shows, beside the one just after the restart's reconciles.
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const idle = { ...rss(pid), heap: mib(sample(await metrics(), "nodejs_heap_size_used_bytes")) };

  // API reads, as an administrator: the first user becomes one, or is made one.
  const email = `bench-${namespaces[0]}@example.com`;
  const form = (o: Record<string, string>) => ({ method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(o).toString() });
  await fetch(`${api}/1.0/users`, form({ email, password: "bench-pw-1" }));
  const user = (await c.list<User>(BerthTypes.User)).items.find((u) => u.spec.email === email);
  if (!user) throw new Error(`user ${email} was not created`);
  await c.mergePatch(BerthTypes.User, undefined, user.metadata.name ?? "", { spec: { admin: true } });
  let token = "";
  await waitForCount("operator: admin login", 1, async () => {
    const r = await fetch(`${api}/1.0/users/${encodeURIComponent(email)}/tokens`, form({ password: "bench-pw-1" }));
    token = r.ok ? ((await r.json()) as { token: string }).token : "";
    return token ? 1 : 0;
  }, async () => "login refused", 30_000, 250);
  const auth = { Authorization: `bearer ${token}` };
  const get = async (url: string) => {
    const r = await fetch(url, { headers: auth });
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r;
  };
  await new Promise((r) => setTimeout(r, 1000)); // the admin flag reaches the API's cache
  const listed = ((await (await get(`${api}/1.0/apps`)).json()) as unknown[]).length;
  const pages = Math.ceil(N / PAGE);
  const list = await loadFor(SECONDS, WIDTH, async () => (await get(`${api}/1.0/apps`)).arrayBuffer());
  const directList = await loadFor(SECONDS, WIDTH, () => c.list(BerthTypes.App));
  const deisPage = await loadFor(SECONDS, WIDTH, async (i) => (await get(`${api}/v1/apps?page=${1 + (i % pages)}&page_size=${PAGE}`)).arrayBuffer());
  const directPage = await loadFor(SECONDS, WIDTH, () => c.list(BerthTypes.App, { limit: PAGE }));
  const afterReads = { ...rss(pid), heap: mib(sample(await metrics(), "nodejs_heap_size_used_bytes")) };

  const stopAt = performance.now();
  operator.kill("SIGTERM");
  const code = await exited;
  report(`operator process: berth run (compiled), ${N} Apps in ${namespaces.length} namespaces`, {
    [process.env.BENCH_NODE_OPTIONS === undefined ? "node options (the Helm chart's)" : "node options (BENCH_NODE_OPTIONS)"]: nodeOptions || "(none)",
    "restart: start -> caches synced (s)": synced / 1000,
    "restart: start -> every App reconciled (s)": confirmed / 1000,
    "restart: writes": startWrites,
    ...(startWrites ? { "restart: writes made": writesMade } : {}),
    "restart: reads (LIST + WATCH + GET)": startReads,
    "RSS with N Apps cached (MiB)": settled.now,
    "heap used with N Apps cached (MiB)": settled.heap,
    "heap committed / external memory (MiB)": `${settled.committed.toFixed(1)} / ${settled.external.toFixed(1)}`,
    [`RSS / heap used after ${IDLE_S} s idle (MiB)`]: `${idle.now.toFixed(1)} / ${idle.heap.toFixed(1)}`,
    "objects cached": cached,
    "RSS after API reads (MiB)": afterReads.now,
    "heap used after API reads (MiB)": afterReads.heap,
    "peak RSS (MiB)": afterReads.peak,
    "GET /1.0/apps: apps listed": listed,
    "GET /1.0/apps p50 (ms)": list.p50,
    "GET /1.0/apps p99 (ms)": list.p99,
    "direct LIST apps p50 (ms)": directList.p50,
    "direct LIST apps p99 (ms)": directList.p99,
    [`Deis GET /v1/apps?page_size=${PAGE} p50 (ms)`]: deisPage.p50,
    [`Deis GET /v1/apps?page_size=${PAGE} p99 (ms)`]: deisPage.p99,
    [`direct LIST apps limit=${PAGE} p50 (ms)`]: directPage.p50,
    [`direct LIST apps limit=${PAGE} p99 (ms)`]: directPage.p99,
    "SIGTERM -> exit (s)": (performance.now() - stopAt) / 1000,
    "exit code": code ?? "signal",
  });
} finally {
  if (operator.exitCode === null) operator.kill("SIGKILL");
  c.close();
}
process.exit(0);
