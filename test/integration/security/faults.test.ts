// Faults under write load against a real `berth run` process: kube-apiserver stopped 15 s,
// etcd stopped 15 s, kill -9. The process never exits, the API keeps answering (from its
// cache, or a clear 503), every acknowledged write is in the cluster afterwards, and the
// controllers win the lease back. Recovery times are printed.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { expect } from "chai";
import type { Team } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import { userObjectName } from "../../../src/api/identity/store.ts";
import { KubeClient } from "../../../src/kube/client.ts";
import { installCRDs } from "../support/berth.ts";
import { clusterCtl } from "../support/cluster-control.ts";
import { call } from "../support/http.ts";
import { eventually } from "../support/kube.ts";

const root = process.env.BERTH_ROOT ?? process.cwd();
const id = randomBytes(3).toString("hex");

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Berth {
  proc: ChildProcess;
  base: string;
  exited: Promise<number | null>;
}

async function berthRun(args: string[] = []): Promise<Berth> {
  const [apiPort, metricsPort] = [await freePort(), await freePort()];
  const proc = spawn(process.execPath, ["--import", "tsx", `${root}/src/main.ts`, "run", ...args], {
    env: {
      ...process.env,
      BERTH_API_HOST: "127.0.0.1",
      BERTH_API_PORT: String(apiPort),
      BERTH_METRICS_HOST: "127.0.0.1",
      BERTH_METRICS_PORT: String(metricsPort),
      BERTH_LOG_LEVEL: "error",
      BERTH_POD_NAME: `faults-${id}`,
      BERTH_LEASE_DURATION: "6s",
      BERTH_RENEW_DEADLINE: "4s",
      BERTH_RETRY_PERIOD: "1s",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const base = `http://127.0.0.1:${apiPort}`;
  await eventually("berth run is ready", async () => (await call(base, "GET", "/readyz").catch(() => ({ status: 0 }))).status === 200, 60_000, 200);
  return { proc, base, exited };
}

describe("faults under write load (berth run, real control plane)", function () {
  this.timeout(300_000);
  let client: KubeClient;
  let berth: Berth | undefined;
  let token = "";
  const acknowledged: string[] = [];

  before(async () => {
    await installCRDs();
    client = await KubeClient.create();
    berth = await berthRun();
    const email = `faults-${id}@example.com`;
    expect((await call(berth.base, "POST", "/1.0/users", { form: { email, password: "faults-pw" } })).status).to.equal(201);
    await client.mergePatch(BerthTypes.User, undefined, userObjectName(email), { spec: { admin: true } });
    await new Promise((r) => setTimeout(r, 300));
    token = (await call(berth.base, "POST", "/1.0/auth/login", { form: { email, password: "faults-pw" } })).json<{ token: string }>().token;
  });
  after(async () => {
    berth?.proc.kill("SIGKILL");
    await clusterCtl("start", "etcd").catch(() => undefined);
    await clusterCtl("start", "kube-apiserver").catch(() => undefined);
    client?.close();
  });

  /** Writes teams every 100 ms and reads every 250 ms while fault() runs; returns what was seen. */
  async function underLoad(name: string, fault: () => Promise<void>): Promise<{ statuses: Map<number, number>; recoveredMs: number }> {
    const b = berth!;
    const statuses = new Map<number, number>();
    let stop = false;
    let n = 0;
    const writer = (async () => {
      while (!stop) {
        const team = `f-${name}-${id}-${n++}`;
        const r = await call(b.base, "POST", "/1.0/teams", { token, form: { name: team } }).catch(() => ({ status: 0 }));
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 201) acknowledged.push(team);
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const reader = (async () => {
      while (!stop) {
        const r = await call(b.base, "GET", "/1.0/teams", { token }).catch(() => ({ status: 0 }));
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        await new Promise((res) => setTimeout(res, 250));
      }
    })();
    await fault();
    const t0 = Date.now();
    await eventually("writes succeed again", async () => (await call(b.base, "POST", "/1.0/teams", { token, form: { name: `f-${name}-probe-${id}` } })).status === 201, 90_000, 250);
    acknowledged.push(`f-${name}-probe-${id}`);
    const recoveredMs = Date.now() - t0;
    stop = true;
    await Promise.all([writer, reader]);
    process.stdout.write(`      ${name}: answers ${JSON.stringify(Object.fromEntries(statuses))}, writes recovered ${recoveredMs} ms after the fault ended\n`);
    return { statuses, recoveredMs };
  }

  const stopFor = (component: string, ms: number) => async () => {
    await clusterCtl("stop", component);
    await new Promise((r) => setTimeout(r, ms));
    await clusterCtl("start", component);
  };

  it("survives kube-apiserver stopped 15 s: never exits, always answers, loses no acknowledged write", async () => {
    const { statuses } = await underLoad("apiserver", stopFor("kube-apiserver", 15_000));
    expect(statuses.get(0) ?? 0, "connection failures").to.equal(0);
    expect([...statuses.keys()].filter((s) => s >= 500 && s !== 503), "statuses other than 2xx/503").to.deep.equal([]);
    expect(berth!.proc.exitCode).to.equal(null);
  });

  it("survives etcd stopped 15 s the same way", async () => {
    const { statuses } = await underLoad("etcd", stopFor("etcd", 15_000));
    expect(statuses.get(0) ?? 0, "connection failures").to.equal(0);
    expect(berth!.proc.exitCode).to.equal(null);
  });

  it("wins the lease back after the outages (the controllers run again)", async () => {
    const holder = await eventually("the lease is held by this process again", async () => {
      const lease = await client.get<{ metadata: object; spec?: { holderIdentity?: string } }>({ group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true }, "berth-system", "berth-controller");
      return lease.spec?.holderIdentity === `faults-${id}` && lease.spec.holderIdentity;
    }, 60_000);
    expect(holder).to.equal(`faults-${id}`);
  });

  it("after kill -9 and a restart, every acknowledged write is there exactly once", async () => {
    berth!.proc.kill("SIGKILL");
    await berth!.exited;
    berth = await berthRun();
    const teams = (await client.list<Team>(BerthTypes.Team)).items.map((t) => t.metadata.name ?? "");
    const missing = acknowledged.filter((t) => !teams.includes(t));
    expect(missing, `${acknowledged.length} acknowledged`).to.deep.equal([]);
    expect(new Set(acknowledged).size).to.equal(acknowledged.length);
    const r = await call(berth.base, "GET", "/1.0/teams", { token });
    expect(r.status).to.equal(200);
  });

  it("stops on SIGTERM within 10 s, and --no-controllers keeps serving", async () => {
    const t0 = Date.now();
    berth!.proc.kill("SIGTERM");
    expect(await berth!.exited).to.equal(0);
    expect(Date.now() - t0).to.be.lessThan(10_000);
    berth = await berthRun(["--no-controllers"]);
    await new Promise((r) => setTimeout(r, 4000));
    expect(berth.proc.exitCode).to.equal(null);
    expect((await call(berth.base, "GET", "/1.0/teams", { token })).status).to.equal(200);
  });
});
