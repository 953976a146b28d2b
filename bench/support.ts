// Shared bench helpers: a client on the current kubeconfig, a namespace, percentiles, bounded concurrency.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { KubeClient } from "../src/kube/client.ts";
import { Types } from "../src/kube/resource.ts";
import type { Pool } from "../src/model/kinds.ts";
import { BerthTypes } from "../src/model/kinds.ts";

export async function client(): Promise<KubeClient> {
  return KubeClient.create();
}

export async function namespace(c: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await c.create(Types.Namespace, { metadata: { name } });
  return name;
}

/**
 * For benchmarks on the real node: exits (0) saying so when there is none; else installs the
 * CRDs and makes a namespace and a Pool that places apps on the real node (its taint tolerated);
 * remove() deletes both and closes the client.
 */
export async function realNodePool(prefix: string, what: string): Promise<{ c: KubeClient; ns: string; poolName: string; registry: string; remove: () => Promise<void> }> {
  const realNodes = execFileSync("kubectl", ["get", "nodes", "-l", "berth.dev/node-group=real", "-o", "name"], { encoding: "utf8" }).trim();
  if (!realNodes) {
    console.log(`${what}: skipped, no node labelled berth.dev/node-group=real (start the cluster with the real node)`);
    process.exit(0);
  }
  execFileSync("kubectl", ["apply", "--server-side", "--force-conflicts", "-f", new URL("../crds/", import.meta.url).pathname], { stdio: "ignore" });
  const c = await client();
  const ns = await namespace(c, prefix);
  const poolName = `${prefix}-${ns.slice(-6)}`;
  await c.create<Pool>(BerthTypes.Pool, {
    metadata: { name: poolName },
    spec: { namespace: ns, public: true, nodeSelector: { "berth.dev/node-group": "real" }, tolerations: [{ key: "berth.dev/real-node", operator: "Exists", effect: "NoSchedule" }] },
  });
  const remove = async () => {
    await c.delete(Types.Namespace, undefined, ns).catch(() => undefined);
    await c.delete(BerthTypes.Pool, undefined, poolName).catch(() => undefined);
    c.close();
  };
  return { c, ns, poolName, registry: process.env.BERTH_REGISTRY ?? "10.245.1.1:5000", remove };
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Calls fn(i) for `seconds` with `width` calls in flight: latency p50/p99 (ms) and calls/s. */
export async function loadFor(seconds: number, width: number, fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number; rps: number }> {
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  let i = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await fn(i++);
        lat.push(performance.now() - s);
      }
    }),
  );
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), rps: lat.length / ((performance.now() - t0) / 1000) };
}

/** Runs fn(i) for i in [0, n) with at most `width` in flight. */
export async function pool(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

export function report(name: string, figures: Record<string, number | string>): void {
  const rows = Object.entries(figures).map(([k, v]) => `  ${k.padEnd(44)} ${typeof v === "number" ? (Number.isInteger(v) ? v : v.toFixed(2)) : v}`);
  console.log(`${name}\n${rows.join("\n")}`);
}

export function heapMB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** Berth's controllers and API in this process, with an administrator's token for the tsuru calls. */
export async function startBerthApi(c: KubeClient, label: string, concurrency: number) {
  const { apiDeps, startApi } = await import("../src/api/start.ts");
  const { setupAppController } = await import("../src/controllers/app-controller.ts");
  const { setupPoolController } = await import("../src/controllers/pool-controller.ts");
  const { silentLogger } = await import("../src/log.ts");
  const { Manager } = await import("../src/runtime/manager.ts");
  const { BerthTypes } = await import("../src/model/kinds.ts");
  const log = silentLogger();
  const manager = new Manager({ client: c, log });
  setupAppController(manager, concurrency);
  setupPoolController(manager);
  const deps = apiDeps(manager, "berth-system", log);
  const api = await startApi(deps, { apiHost: "127.0.0.1", apiPort: 0 }, log);
  const abort = new AbortController();
  const running = manager.run(abort.signal);
  await manager.informers.waitForSync();
  const email = `bench-${label}@example.com`;
  const user = await deps.identity.createUser(email, "bench-pw-1");
  await c.mergePatch(BerthTypes.User, undefined, user.metadata.name ?? "", { spec: { admin: true } });
  await new Promise((r) => setTimeout(r, 500));
  const { token } = await deps.identity.login(email, "bench-pw-1");
  return {
    manager,
    base: `http://127.0.0.1:${api.port}`,
    auth: { Authorization: `bearer ${token}` },
    stop: async () => {
      abort.abort();
      await running;
      await api.close();
      await manager.close();
    },
  };
}
