// The cloud services API end to end on the real node, with the example class clickhouse-lite
// (examples/real-node/cloud-db.yaml: a stand-in ClickHouse HTTP server in Python, its data on the
// node): create → running, its endpoint answers queries with the password → a row written →
// stop → start (the row is still there) → password rotation (the old one refused by the server,
// the new one accepted, a bound app released with it) → memory bounds → idle scaling to zero and
// awake → a backup → a new service from that backup with the row → stop and delete (404 after).
// Idle timeouts are minutes of one second here (BERTH_SERVICE_IDLE_MINUTE's test knob; the API
// still refuses less than 5). Skipped when the cluster has no real node.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../../src/kube/resource.ts";
import { Types } from "../../../src/kube/resource.ts";
import type { App, Pool, Release, ServiceClass, ServiceInstance, Team, Token } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { call } from "../support/http.ts";
import { eventually, kubectl } from "../support/kube.ts";

const REGISTRY = process.env.BERTH_REGISTRY ?? "";
const NODE = process.env.BERTH_REAL_NODE ?? "";
const root = process.env.BERTH_ROOT ?? process.cwd();

interface ServiceJSON {
  id: string;
  state: string;
  endpoints: { protocol: string; host: string; port: number }[];
}
interface Envelope<T> {
  status: number;
  result?: T;
  error?: string;
}

describe("cloud flow on the real node (clickhouse-lite)", function () {
  this.timeout(300_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const [team, pool, klass, ns, app] = [`cf-${id}`, `cf-${id}`, `chl-${id}`, `cf-${id}`, `cf-app-${id}`];
  const hostDir = `/tmp/berth-cloud-flow-${id}`;
  const key = { id: `ck-cf-${id}`, secret: randomBytes(32).toString("hex") };
  let org = "";

  const api = async <T>(method: string, path: string, json?: unknown): Promise<{ status: number; body: Envelope<T> }> => {
    const r = await call(berth.apiURL, method, `/v1/organizations/${org}${path}`, { scheme: "Basic", token: Buffer.from(`${key.id}:${key.secret}`).toString("base64"), ...(json === undefined ? {} : { json }) });
    return { status: r.status, body: r.json<Envelope<T>>() };
  };
  const ok = async <T>(method: string, path: string, json?: unknown): Promise<T> => {
    const r = await api<T>(method, path, json);
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body.result as T;
  };
  const state = async (sid: string) => (await ok<ServiceJSON>("GET", `/services/${sid}`)).state;
  const waitState = (sid: string, want: string, ms = 120_000) => eventually(`service ${want}`, async () => (await state(sid)) === want, ms, 500);
  const objectName = async (sid: string) => (await berth.client.list<ServiceInstance>(BerthTypes.ServiceInstance, { namespace: ns })).items.find((s) => s.metadata.uid === sid)?.metadata.name ?? "";

  /** A query to the service's Service (its ClusterIP, from this host), as a ClickHouse HTTP client sends it. */
  const query = async (name: string, password: string, sql: string, body?: string): Promise<{ status: number; text: string } | undefined> => {
    const ip = (await kubectl("get", "service", "-n", ns, name, "-o", "jsonpath={.spec.clusterIP}")).trim();
    try {
      const r = await fetch(`http://${ip}:8123/?query=${encodeURIComponent(sql)}`, {
        method: body === undefined ? "GET" : "POST",
        body,
        headers: { Authorization: `Basic ${Buffer.from(`default:${password}`).toString("base64")}` },
        signal: AbortSignal.timeout(3000),
      });
      return { status: r.status, text: await r.text() };
    } catch {
      return undefined; // nothing listens (stopped, idle, starting)
    }
  };
  const rows = async (name: string, password: string) => {
    const r = await query(name, password, "SELECT * FROM orders FORMAT JSONEachRow");
    return r?.status === 200 ? r.text : undefined;
  };
  const pods = async () => (await kubectl("get", "pods", "-n", ns, "-l", "berth.dev/service-instance", "-o", "name")).trim();

  before(async function () {
    if (!NODE || !REGISTRY) {
      process.stdout.write("    skipped: this cluster has no real node (BERTH_REAL_NODES=0, not root, or another cluster on this machine runs it)\n");
      this.skip();
    }
    berth = await startBerth({ api: true, serviceIdleMinuteMs: 1000 });
    const t = await berth.client.create<Team>(BerthTypes.Team, { metadata: { name: team }, spec: { displayName: `Flow ${id}` } });
    org = t.metadata.uid ?? "";
    await berth.client.create<Pool>(BerthTypes.Pool, {
      metadata: { name: pool },
      spec: { teams: [team], namespace: ns, nodeSelector: { "berth.dev/node-group": "real" }, tolerations: [{ key: "berth.dev/real-node", operator: "Exists", effect: "NoSchedule" }] },
    });
    // The example class as shipped, offered to this team only, its images and node directories made this run's own.
    const example = parseAllDocuments(readFileSync(join(root, "examples/real-node/cloud-db.yaml"), "utf8")).map((d) => d.toJSON() as ServiceClass)[0]!;
    const local = (image: string) => image.replace("10.245.1.1:5000", REGISTRY);
    await berth.client.create<ServiceClass>(BerthTypes.ServiceClass, {
      metadata: { name: klass, labels: { "berth.dev/cloud": "true", "berth.dev/cloud-team": team } },
      spec: {
        ...example.spec,
        image: local(example.spec.image),
        storage: { mountPath: example.spec.storage!.mountPath, hostPath: `${hostDir}/services` },
        backup: { ...example.spec.backup!, image: local(example.spec.backup!.image), hostPath: `${hostDir}/backups` },
      },
    });
    await berth.client.create<Token>(BerthTypes.Token, {
      metadata: { name: key.id, namespace: "berth-system" },
      spec: { owner: { kind: "Team", name: team }, kind: "CloudKey", roles: [{ role: "admin", contextType: "team", contextValue: team }], tokenHash: createHash("sha256").update(key.secret).digest("hex") },
    });
    await eventually("key, pool and namespace ready", async () => (await api("GET", "/services")).status === 200 && !!(await berth.client.getOrUndefined(Types.Namespace, undefined, ns)));
  });

  after(async () => {
    if (!berth) return;
    await berth.client.delete(BerthTypes.App, ns, app).catch(() => undefined);
    for (const si of (await berth.client.list<ServiceInstance>(BerthTypes.ServiceInstance, { namespace: ns }).catch(() => ({ items: [] }))).items) {
      await berth.client.delete(BerthTypes.ServiceInstance, ns, si.metadata.name ?? "").catch(() => undefined);
    }
    await kubectl("delete", "serviceclass.berth.dev", klass, "--ignore-not-found", "--wait=false").catch(() => undefined);
    await kubectl("delete", "token.berth.dev", "-n", "berth-system", key.id, "--ignore-not-found", "--wait=false").catch(() => undefined);
    await kubectl("delete", "pool.berth.dev", pool, "--ignore-not-found", "--wait=false").catch(() => undefined);
    await kubectl("delete", "team.berth.dev", team, "--ignore-not-found", "--wait=false").catch(() => undefined);
    await kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false").catch(() => undefined);
    await berth.stop();
    rmSync(hostDir, { recursive: true, force: true });
  });

  let serviceId = "";
  let name = "";
  let password = "";
  let backupId = "";

  it("create: running on the real node, its endpoint answers queries with the password only", async () => {
    const created = await ok<{ service: ServiceJSON; password: string }>("POST", "/services", { name: `Orders ${id}`, provider: "aws", region: "us-east-1", tier: "production", idleScaling: false });
    serviceId = created.service.id;
    password = created.password;
    name = await objectName(serviceId);
    expect(created.service.endpoints[0]).to.deep.equal({ protocol: "tcp", host: `${name}.${ns}.svc`, port: 8123 });
    await waitState(serviceId, "running");
    expect(await kubectl("get", "pods", "-n", ns, "-l", `berth.dev/service-instance=${name}`, "-o", "jsonpath={.items[*].spec.nodeName}")).to.equal(NODE);
    await eventually("the server answers", async () => (await query(name, password, "SELECT 1"))?.text === "1\n");
    const refused = await query(name, "not-the-password", "SELECT 1");
    expect(refused?.status).to.equal(401);
    expect(refused?.text).to.match(/AUTHENTICATION_FAILED/);
    const insert = await query(name, password, "INSERT INTO orders FORMAT JSONEachRow", '{"id":1,"item":"anchor"}\n');
    expect(insert?.status).to.equal(200);
    expect(await rows(name, password)).to.equal('{"id": 1, "item": "anchor"}\n');
  });

  it("stop and start: no pods while stopped, the row is still there after", async () => {
    await ok("PATCH", `/services/${serviceId}/state`, { command: "stop" });
    await waitState(serviceId, "stopped");
    await eventually("no pods", async () => (await pods()) === "");
    expect(await query(name, password, "SELECT 1")).to.equal(undefined);
    await ok("PATCH", `/services/${serviceId}/state`, { command: "start" });
    await waitState(serviceId, "running");
    expect(await eventually("the row after start", () => rows(name, password))).to.equal('{"id": 1, "item": "anchor"}\n');
  });

  it("password rotation reaches the server (old refused, new accepted) and a bound app's new release", async () => {
    await berth.client.create<App>(BerthTypes.App, {
      metadata: { name: app, namespace: ns },
      spec: { image: `${REGISTRY}/berth/hello:1`, owner: team, pool, processes: [{ name: "web", replicas: 1, ports: [{ port: 8080 }], resources: { cpu: "100m", memory: "64Mi" } }], serviceBindings: [{ name }] },
    });
    const released = async () => {
      const latest = (await berth.client.list<Release>(BerthTypes.Release, { namespace: ns })).items.filter((r) => r.spec.app === app).sort((a, b) => b.spec.version - a.spec.version)[0];
      const env = latest && (await berth.client.getOrUndefined<KubeObject & { data?: Record<string, string> }>(Types.Secret, ns, latest.spec.envSecretName));
      const pw = env?.data?.CLICKHOUSE_PASSWORD;
      return latest && pw !== undefined ? { version: latest.spec.version, password: Buffer.from(pw, "base64").toString("utf8"), url: Buffer.from(env?.data?.CLICKHOUSE_URL ?? "", "base64").toString("utf8") } : undefined;
    };
    const first = await eventually("the bound app released with the password", async () => ((await released())?.password === password ? released() : undefined));
    expect(first!.url).to.equal(`http://${name}.${ns}.svc:8123`);
    const rotated = await ok<{ password: string }>("PATCH", `/services/${serviceId}/password`);
    expect(rotated.password).to.not.equal(password);
    await eventually("the old password refused by the server", async () => (await query(name, password, "SELECT 1"))?.status === 401, 120_000, 500);
    expect(await eventually("the new password accepted", () => rows(name, rotated.password))).to.equal('{"id": 1, "item": "anchor"}\n');
    const second = await eventually("the bound app released again with the new password", async () => ((await released())?.password === rotated.password ? released() : undefined));
    expect(second!.version).to.be.above(first!.version);
    password = rotated.password;
    await berth.client.delete(BerthTypes.App, ns, app);
  });

  it("memory bounds become the HPA's replica range", async () => {
    await ok("PATCH", `/services/${serviceId}/scaling`, { minTotalMemoryGb: 24, maxTotalMemoryGb: 48, numReplicas: 1 });
    await eventually("HPA 1..2", async () => {
      const hpa = await berth.client.getOrUndefined<KubeObject & { spec: { minReplicas: number; maxReplicas: number } }>(Types.HorizontalPodAutoscaler, ns, name);
      return hpa?.spec.minReplicas === 1 && hpa.spec.maxReplicas === 2;
    });
    await ok("PATCH", `/services/${serviceId}/scaling`, { minTotalMemoryGb: 24, maxTotalMemoryGb: 24 });
    await eventually("no HPA without a range", async () => !(await berth.client.getOrUndefined(Types.HorizontalPodAutoscaler, ns, name)));
  });

  it("idle scaling: unused for its timeout, the service scales to zero and is idle; awake brings it back with its data", async () => {
    expect((await api("PATCH", `/services/${serviceId}/scaling`, { idleScaling: true, idleTimeoutMinutes: 4 })).status).to.equal(400);
    expect((await query(name, password, "SELECT 1"))?.status).to.equal(200); // in use now
    const t0 = Date.now();
    await ok("PATCH", `/services/${serviceId}/scaling`, { idleScaling: true, idleTimeoutMinutes: 5 });
    await waitState(serviceId, "idle", 60_000);
    const idleAfterMs = Date.now() - t0;
    expect(idleAfterMs).to.be.at.least(4000); // five "minutes" of a second without a query
    await eventually("no pods while idle", async () => (await pods()) === "");
    const si = await berth.client.get<ServiceInstance>(BerthTypes.ServiceInstance, ns, name);
    expect(si.status?.idle?.since).to.be.a("string");
    expect(si.spec.state).to.equal("Running");
    process.stdout.write(`      idle after ${idleAfterMs} ms (timeout 5 s)\n`);
    await ok("PATCH", `/services/${serviceId}/state`, { command: "awake" });
    await waitState(serviceId, "running");
    expect(await eventually("the row after awake", () => rows(name, password))).to.equal('{"id": 1, "item": "anchor"}\n');
    await ok("PATCH", `/services/${serviceId}/scaling`, { idleScaling: false });
  });

  it("backup: a Job copies the data; a new service from that backup has the row", async () => {
    await kubectl("create", "job", "-n", ns, `${name}-manual`, `--from=cronjob/${name}-backup`);
    const backup = await eventually(
      "backup done",
      async () => {
        const list = await ok<{ id: string; status: string; serviceId: string }[]>("GET", `/services/${serviceId}/backups`);
        return list.find((b) => b.status === "done") ?? (list.some((b) => b.status === "error") ? Promise.reject(new Error("backup failed")) : undefined);
      },
      120_000,
      1000,
    );
    backupId = backup.id;
    expect(backup.serviceId).to.equal(serviceId);
    const restored = await ok<{ service: ServiceJSON; password: string }>("POST", "/services", { name: `Restored ${id}`, provider: "aws", region: "us-east-1", tier: "development", idleScaling: false, backupId });
    const restoredName = await objectName(restored.service.id);
    await waitState(restored.service.id, "running");
    expect(await eventually("the row in the restored service", () => rows(restoredName, restored.password))).to.equal('{"id": 1, "item": "anchor"}\n');
    // Its own password, not the original's.
    expect((await query(restoredName, password, "SELECT 1"))?.status).to.equal(401);
    for (const sid of [restored.service.id, serviceId]) {
      expect((await api("DELETE", `/services/${sid}`)).status).to.equal(409);
      await ok("PATCH", `/services/${sid}/state`, { command: "stop" });
    }
    for (const sid of [restored.service.id, serviceId]) {
      await waitState(sid, "stopped");
      await ok("DELETE", `/services/${sid}`);
      expect((await api("GET", `/services/${sid}`)).status).to.equal(404);
    }
  });
});
