// Golden wire tests for the cloud services API (ClickHouse Cloud's REST API v1). Expected shapes
// come from the real API's documentation, never from Berth's output:
//  - [seed] ../shared/api-reference/004_*.txt (paths, fields, rules: memory multiples of 12,
//    idleTimeoutMinutes >= 5, delete only when stopped);
//  - [spec] the OpenAPI spec, clickhouse.com/docs/_specs/cloud-openapi.json: every answer is
//    {status: number, requestId: UUIDv4, result} (errors: {status, requestId, error}); GET
//    /v1/organizations "returns a list with a single organization associated with the API key";
//    Organization {id, name, createdAt, privateEndpoints}; PATCH .../password newPasswordHash is
//    base64(sha256(password)), newDoubleSha1Hash hex(sha1(sha1(password))), "if not provided a
//    new password is generated and is provided in the response";
//  - [npm] @cleverbrush/clickhouse-cloud-api-client 1.1.0 (dist/index.d.ts): Basic key id:secret,
//    ClickhouseCloudApiResponse<T> = {result, requestId, status}, ServiceDetails {id, name,
//    provider, region, state, endpoints[{protocol, host, port}], tier, idleScaling,
//    idleTimeoutMinutes, minTotalMemoryGb, maxTotalMemoryGb, ipAccessList[{source, description}],
//    createdAt}; it throws on any non-2xx status. That client is driven as a user would.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import type { KubeObject } from "../../../src/kube/resource.ts";
import { Types } from "../../../src/kube/resource.ts";
import { userObjectName } from "../../../src/api/identity/store.ts";
import type { App, Pool, Release, ServiceClass, ServiceInstance, Team, Token, User } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { eventually, kubectl } from "../support/kube.ts";

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

interface Envelope<T = unknown> {
  status: number;
  requestId: string;
  result?: T;
  error?: string;
}
interface Res<T = unknown> {
  code: number;
  body: Envelope<T>;
}
interface ServiceJSON {
  id: string;
  name: string;
  provider: string;
  region: string;
  state: string;
  endpoints: { protocol: string; host: string; port: number }[];
  tier: string;
  minTotalMemoryGb: number;
  maxTotalMemoryGb: number;
  idleScaling: boolean;
  idleTimeoutMinutes: number;
  ipAccessList: { source: string; description: string }[];
  createdAt: string;
}
interface CloudClient {
  getServiceDetails(org: string, id: string): Promise<Envelope<ServiceJSON>>;
  updateServiceScaling(org: string, id: string, s: { minTotalMemoryGb: number; maxTotalMemoryGb: number; numReplicas?: number; idleScaling?: boolean; idleTimeoutMinutes?: number }): Promise<Envelope<ServiceJSON>>;
  setServiceState(org: string, id: string, state: "start" | "stop"): Promise<Envelope<ServiceJSON>>;
}
type CloudClientClass = new (keyId: string, keySecret: string, apiBaseUrl?: string) => CloudClient;

describe("cloud wire (golden, ClickHouse Cloud API v1)", function () {
  this.timeout(240_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const [teamA, teamB, pool, klass] = [`ca-${id}`, `cb-${id}`, `cp-${id}`, `cloud-${id}`];
  const ns = `pool-${pool}`;
  let orgA = "";
  let orgB = "";
  const keys: Record<"adminA" | "devA" | "roA" | "adminB", { id: string; secret: string }> = {
    adminA: { id: `ck-a-${id}`, secret: randomBytes(32).toString("hex") },
    devA: { id: `ck-d-${id}`, secret: randomBytes(32).toString("hex") },
    roA: { id: `ck-r-${id}`, secret: randomBytes(32).toString("hex") },
    adminB: { id: `ck-b-${id}`, secret: randomBytes(32).toString("hex") },
  };
  let serviceId = "";
  let serviceName = "";
  let Client: CloudClientClass | undefined;
  let clientSkip = "";

  const call = async <T = unknown>(method: string, path: string, o: { key?: keyof typeof keys; json?: unknown; raw?: string; auth?: string } = {}): Promise<Res<T>> => {
    const headers: Record<string, string> = {};
    if (o.key) headers.Authorization = `Basic ${Buffer.from(`${keys[o.key].id}:${keys[o.key].secret}`).toString("base64")}`;
    if (o.auth) headers.Authorization = o.auth;
    let body: string | undefined;
    if (o.json !== undefined) body = JSON.stringify(o.json);
    if (o.raw !== undefined) body = o.raw;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(`${berth.apiURL}${path}`, { method, headers, body });
    const text = await r.text();
    return { code: r.status, body: JSON.parse(text) as Envelope<T> };
  };
  const svcPath = (org = orgA, sid = serviceId) => `/v1/organizations/${org}/services/${sid}`;
  const expectOk = <T>(r: Res<T>): T => {
    expect(r.code, JSON.stringify(r.body)).to.equal(200);
    expect(r.body.status).to.equal(200);
    expect(r.body.requestId).to.match(UUID4);
    return r.body.result as T;
  };
  const expectError = (r: Res, code: number, message?: RegExp) => {
    expect(r.code, JSON.stringify(r.body)).to.equal(code);
    expect(Object.keys(r.body).sort()).to.deep.equal(["error", "requestId", "status"]);
    expect(r.body.status).to.equal(code);
    expect(r.body.requestId).to.match(UUID4);
    expect(r.body.error).to.be.a("string").and.not.equal("");
    if (message) expect(r.body.error).to.match(message);
  };
  const instance = async () => (await berth.client.list<ServiceInstance>(BerthTypes.ServiceInstance, { namespace: ns })).items.find((s) => s.metadata.uid === serviceId);
  const credentials = async () => {
    const s = await berth.client.getOrUndefined<KubeObject & { data?: Record<string, string> }>(Types.Secret, ns, `${serviceName}-credentials`);
    return Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
  };
  const waitState = (state: string, key: keyof typeof keys = "adminA") =>
    eventually(`service ${state}`, async () => (await call<ServiceJSON>("GET", svcPath(), { key })).body.result?.state === state, 90_000);

  before(async () => {
    berth = await startBerth({ api: true });
    const team = async (name: string) => berth.client.create<Team>(BerthTypes.Team, { metadata: { name }, spec: { displayName: `Org ${name}` } });
    const [a, b] = [await team(teamA), await team(teamB)];
    orgA = a.metadata.uid ?? "";
    orgB = b.metadata.uid ?? "";
    await berth.client.create<Pool>(BerthTypes.Pool, { metadata: { name: pool }, spec: { teams: [teamA, teamB] } });
    await berth.client.create<ServiceClass>(BerthTypes.ServiceClass, {
      metadata: { name: klass, labels: { "berth.dev/cloud": "true" } },
      spec: { image: "registry.local/db:1", port: 9000, plans: [{ name: "production" }, { name: "development" }], backup: { image: "registry.local/db:1", command: ["sh", "-c", "true"], schedule: "0 3 * * *" } },
    });
    const key = (k: { id: string; secret: string }, team: Team, role: string) =>
      berth.client.create<Token>(BerthTypes.Token, {
        metadata: { name: k.id, namespace: "berth-system" },
        spec: { owner: { kind: "Team", name: team.metadata.name ?? "" }, kind: "CloudKey", roles: [{ role, contextType: "team", contextValue: team.metadata.name ?? "" }], tokenHash: createHash("sha256").update(k.secret).digest("hex") },
      });
    await key(keys.adminA, a, "admin");
    await key(keys.devA, a, "developer");
    await key(keys.roA, a, "read-only");
    await key(keys.adminB, b, "admin");
    await eventually("keys and pool cached", async () => (await call("GET", "/v1/organizations", { key: "roA" })).code === 200 && (await call("GET", "/v1/organizations", { key: "adminB" })).code === 200);
    await eventually("pool namespace", async () => !!(await berth.client.getOrUndefined(Types.Namespace, undefined, ns)));
    // The real npm client, cached by hack/install-cloud-client.sh.
    try {
      const { stdout } = await promisify(execFile)("bash", [join(process.env.BERTH_ROOT ?? process.cwd(), "hack/install-cloud-client.sh")]);
      Client = ((await import(pathToFileURL(join(stdout.trim(), "dist/index.js")).href)) as { ClickhouseCloudApiClient: CloudClientClass }).ClickhouseCloudApiClient;
    } catch (e) {
      clientSkip = `the npm registry is unreachable (${String(e).split("\n")[0]})`;
    }
  });
  after(async () => {
    await kubectl("delete", "serviceclass.berth.dev", klass, "--ignore-not-found", "--wait=false").catch(() => undefined);
    await kubectl("delete", "pool.berth.dev", pool, "--ignore-not-found", "--wait=false").catch(() => undefined);
    await kubectl("delete", "team.berth.dev", teamA, teamB, "--ignore-not-found", "--wait=false").catch(() => undefined);
    await berth?.stop();
  });

  it("organizations: the key's own, a UUID from the Team (shown in its status), in the envelope [spec]", async () => {
    const list = expectOk(await call<{ id: string; name: string; createdAt: string; privateEndpoints: unknown[] }[]>("GET", "/v1/organizations", { key: "adminA" }));
    expect(list).to.have.length(1);
    expect(list[0]).to.deep.include({ id: orgA, name: `Org ${teamA}`, privateEndpoints: [] });
    expect(list[0]!.id).to.match(UUID);
    expect(list[0]!.createdAt).to.match(RFC3339);
    expect(expectOk(await call("GET", `/v1/organizations/${orgA}`, { key: "roA" }))).to.deep.include({ id: orgA });
    // Another organization does not exist for this key.
    expectError(await call("GET", `/v1/organizations/${orgB}`, { key: "adminA" }), 404);
    await eventually("organizationId in the Team's status", async () => (await berth.client.get<Team>(BerthTypes.Team, undefined, teamA)).status?.organizationId === orgA);
  });

  it("API keys: HTTP Basic key id:secret only; anything else is 401 in the envelope", async () => {
    expectError(await call("GET", "/v1/organizations"), 401);
    expectError(await call("GET", "/v1/organizations", { auth: `Basic ${Buffer.from(`${keys.adminA.id}:wrong`).toString("base64")}` }), 401);
    expectError(await call("GET", "/v1/organizations", { auth: `Bearer ${keys.adminA.secret}` }), 401);
    // The secret alone is no bearer token for the other dialects either.
    expect((await fetch(`${berth.apiURL}/1.0/apps`, { headers: { Authorization: `bearer ${keys.adminA.secret}` } })).status).to.equal(401);
  });

  it("create: {service, password}; UUID id, RFC 3339 createdAt; only admin keys create [seed, spec]", async () => {
    const req = {
      name: `My Service ${id}`,
      provider: "aws",
      region: "us-east-1",
      tier: "production",
      ipAccessList: [{ source: "203.0.113.0/24", description: "office" }],
      minTotalMemoryGb: 24,
      maxTotalMemoryGb: 48,
      idleScaling: true,
      idleTimeoutMinutes: 10,
    };
    expectError(await call("POST", `/v1/organizations/${orgA}/services`, { key: "roA", json: req }), 403);
    expectError(await call("POST", `/v1/organizations/${orgA}/services`, { key: "devA", json: req }), 403);
    expectError(await call("POST", `/v1/organizations/${orgA}/services`, { key: "adminA", json: { ...req, minTotalMemoryGb: 30 } }), 400, /^minTotalMemoryGb: must be a multiple of 12/);
    expectError(await call("POST", `/v1/organizations/${orgA}/services`, { key: "adminA", json: { ...req, idleTimeoutMinutes: 4 } }), 400, /^idleTimeoutMinutes: must be >= 5/);
    expectError(await call("POST", `/v1/organizations/${orgA}/services`, { key: "adminA", json: { ...req, name: undefined } }), 400, /^name: required/);
    expectError(await call("POST", `/v1/organizations/${orgA}/services`, { key: "adminA", raw: "{not json" }), 400);
    expectError(await call("POST", `/v1/organizations/${orgB}/services`, { key: "adminA", json: req }), 404);
    const created = expectOk(await call<{ service: ServiceJSON; password: string }>("POST", `/v1/organizations/${orgA}/services`, { key: "adminA", json: req }));
    expect(Object.keys(created).sort()).to.deep.equal(["password", "service"]);
    expect(created.password).to.be.a("string").with.length.above(11);
    const s = created.service;
    expect(s.id).to.match(UUID);
    expect(s.createdAt).to.match(RFC3339);
    expect(s).to.deep.include({ name: req.name, provider: "aws", region: "us-east-1", tier: "production", minTotalMemoryGb: 24, maxTotalMemoryGb: 48, idleScaling: true, idleTimeoutMinutes: 10 });
    expect(s.ipAccessList).to.deep.equal([{ source: "203.0.113.0/24", description: "office" }]);
    expect(["provisioning", "starting", "running"]).to.include(s.state);
    expect(s.endpoints[0]).to.have.keys(["protocol", "host", "port"]);
    serviceId = s.id;
    serviceName = (await instance())?.metadata.name ?? "";
    // The password the API answered is the service's.
    await eventually("credentials with the created password", async () => (await credentials()).PASSWORD === created.password);
  });

  it("list and get: one organization never sees another's services", async () => {
    expect(expectOk(await call<ServiceJSON[]>("GET", `/v1/organizations/${orgA}/services`, { key: "roA" })).map((s) => s.id)).to.include(serviceId);
    expect(expectOk(await call<ServiceJSON[]>("GET", `/v1/organizations/${orgB}/services`, { key: "adminB" }))).to.deep.equal([]);
    expectError(await call("GET", `/v1/organizations/${orgA}/services`, { key: "adminB" }), 404);
    expectError(await call("GET", svcPath(orgB), { key: "adminB" }), 404);
    expectError(await call("PATCH", `${svcPath(orgB)}/state`, { key: "adminB", json: { command: "stop" } }), 404);
    expectError(await call("GET", svcPath(orgA, "00000000-0000-4000-8000-000000000000"), { key: "adminA" }), 404);
    await waitState("running");
    const s = expectOk(await call<ServiceJSON>("GET", svcPath(), { key: "roA" }));
    expect(s.endpoints[0]).to.deep.include({ host: `${serviceName}.${ns}.svc`, port: 9000 });
    // The same instance through kubectl, and through tsuru for a member of the same team.
    expect(await kubectl("get", "serviceinstances", "-n", ns, "-o", "name")).to.include(serviceName);
    const email = `cloud-${id}@example.com`;
    const form = (o: Record<string, string>) => ({ method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(o).toString() });
    expect((await fetch(`${berth.apiURL}/1.0/users`, form({ email, password: "s3cret-pw" }))).status).to.equal(201);
    const { token } = (await (await fetch(`${berth.apiURL}/1.0/auth/login`, form({ email, password: "s3cret-pw" }))).json()) as { token: string };
    await berth.client.mergePatch<User>(BerthTypes.User, undefined, userObjectName(email), { spec: { roles: [{ role: "team-member", contextType: "team", contextValue: teamA }] } });
    await eventually("tsuru lists the cloud service", async () => {
      const r = await fetch(`${berth.apiURL}/1.0/services/instances`, { headers: { Authorization: `bearer ${token}` } });
      return r.status === 200 && ((await r.json()) as { service: string; instances: string[] }[]).some((x) => x.service === klass && x.instances.includes(serviceName));
    });
  });

  it("the real npm client drives get, scaling and state against Berth [npm]", async function () {
    if (!Client) {
      process.stderr.write(`    (skipped: ${clientSkip})\n`);
      this.skip();
    }
    const c = new Client!(keys.adminA.id, keys.adminA.secret, berth.apiURL);
    const got = await c.getServiceDetails(orgA, serviceId);
    expect(got.status).to.equal(200);
    expect(got.result?.id).to.equal(serviceId);
    const scaled = await c.updateServiceScaling(orgA, serviceId, { minTotalMemoryGb: 24, maxTotalMemoryGb: 96, numReplicas: 2, idleTimeoutMinutes: 30 });
    expect(scaled.result).to.deep.include({ minTotalMemoryGb: 24, maxTotalMemoryGb: 96, idleTimeoutMinutes: 30 });
    await eventually("HPA from the memory bounds", async () => {
      const hpa = await berth.client.getOrUndefined<KubeObject & { spec: { minReplicas: number; maxReplicas: number } }>(Types.HorizontalPodAutoscaler, ns, serviceName);
      return hpa?.spec.minReplicas === 2 && hpa.spec.maxReplicas === 8;
    });
    // A read-only key: the client throws on the 403.
    const ro = new Client!(keys.roA.id, keys.roA.secret, berth.apiURL);
    let refused = "";
    await ro.setServiceState(orgA, serviceId, "stop").catch((e: Error) => (refused = e.message));
    expect(refused).to.equal("HTTP error! status: 403");
    const stopped = await c.setServiceState(orgA, serviceId, "stop");
    expect(["stopping", "stopped"]).to.include(stopped.result?.state);
    await waitState("stopped");
    const started = await c.setServiceState(orgA, serviceId, "start");
    expect(["starting", "running"]).to.include(started.result?.state);
    await waitState("running");
  });

  it("PATCH basic details: name, and the IP access list whole or as add/remove; it becomes the NetworkPolicy [seed]", async () => {
    const renamed = expectOk(await call<ServiceJSON>("PATCH", svcPath(), { key: "devA", json: { name: `Renamed ${id}` } }));
    expect(renamed.name).to.equal(`Renamed ${id}`);
    const edited = expectOk(await call<ServiceJSON>("PATCH", svcPath(), { key: "devA", json: { ipAccessList: { add: [{ source: "198.51.100.7", description: "vpn" }], remove: [{ source: "203.0.113.0/24" }] } } }));
    expect(edited.ipAccessList).to.deep.equal([{ source: "198.51.100.7", description: "vpn" }]);
    await eventually("NetworkPolicy from the access list", async () => (await kubectl("get", "networkpolicy", "-n", ns, serviceName, "-o", "jsonpath={.spec.ingress[0].from[*].ipBlock.cidr}")).trim() === "198.51.100.7/32");
    const replaced = expectOk(await call<ServiceJSON>("PATCH", svcPath(), { key: "adminA", json: { ipAccessList: [{ source: "0.0.0.0/0", description: "anywhere" }] } }));
    expect(replaced.ipAccessList).to.deep.equal([{ source: "0.0.0.0/0", description: "anywhere" }]);
    expectError(await call("PATCH", svcPath(), { key: "adminA", json: { ipAccessList: [{ source: "999.1.1.1" }] } }), 400, /^ipAccessList\[0\]\.source/);
    expectError(await call("PATCH", svcPath(), { key: "roA", json: { name: "x" } }), 403);
  });

  it("PATCH scaling: multiples of 12 within range, idleTimeoutMinutes >= 5 [seed]", async () => {
    expectError(await call("PATCH", `${svcPath()}/scaling`, { key: "adminA", json: { minTotalMemoryGb: 25 } }), 400, /minTotalMemoryGb/);
    expectError(await call("PATCH", `${svcPath()}/scaling`, { key: "adminA", json: { maxTotalMemoryGb: 732 } }), 400, /maxTotalMemoryGb/);
    expectError(await call("PATCH", `${svcPath()}/scaling`, { key: "adminA", json: { idleTimeoutMinutes: 2 } }), 400, /idleTimeoutMinutes/);
    const s = expectOk(await call<ServiceJSON>("PATCH", `${svcPath()}/scaling`, { key: "devA", json: { minTotalMemoryGb: 36, maxTotalMemoryGb: 36, idleScaling: false, numReplicas: 1 } }));
    expect(s).to.deep.include({ minTotalMemoryGb: 36, maxTotalMemoryGb: 36, idleScaling: false });
    await eventually("no HPA without a memory range", async () => !(await berth.client.getOrUndefined(Types.HorizontalPodAutoscaler, ns, serviceName)));
  });

  it("PATCH password: generated and returned, or a sha256 hash stored as given and nothing returned [spec]", async () => {
    // An app bound to the service gets the new password in a new release.
    await berth.client.create<App>(BerthTypes.App, {
      metadata: { name: `bound-${id}`, namespace: ns },
      spec: { image: "registry.local/app:1", processes: [{ name: "web", replicas: 1 }], owner: teamA, pool, serviceBindings: [{ name: serviceName }] },
    });
    const releasedPassword = async () => {
      const releases = (await berth.client.list<Release>(BerthTypes.Release, { namespace: ns })).items.filter((r) => r.spec.app === `bound-${id}`).sort((a, b) => b.spec.version - a.spec.version);
      const env = releases[0] ? await berth.client.getOrUndefined<KubeObject & { data?: Record<string, string> }>(Types.Secret, ns, releases[0].spec.envSecretName) : undefined;
      return env?.data?.SERVICE_PASSWORD ? Buffer.from(env.data.SERVICE_PASSWORD, "base64").toString("utf8") : undefined;
    };
    await eventually("the bound app released with the service's password", async () => (await releasedPassword()) === (await credentials()).PASSWORD);
    const generated = expectOk(await call<{ password: string }>("PATCH", `${svcPath()}/password`, { key: "devA" }));
    expect(generated.password).to.be.a("string").with.length.above(11);
    await eventually("the new password in the credentials", async () => (await credentials()).PASSWORD === generated.password);
    await eventually("the bound app released again with the new password", async () => (await releasedPassword()) === generated.password);
    await berth.client.delete(BerthTypes.App, ns, `bound-${id}`);
    const hash = createHash("sha256").update("hunter2-but-longer").digest("base64");
    const dsha1 = createHash("sha1").update(createHash("sha1").update("hunter2-but-longer").digest()).digest("hex");
    const hashed = expectOk(await call<Record<string, unknown>>("PATCH", `${svcPath()}/password`, { key: "adminA", json: { newPasswordHash: hash, newDoubleSha1Hash: dsha1 } }));
    expect(hashed).to.not.have.property("password");
    await eventually("the hashes in the credentials", async () => {
      const c = await credentials();
      return c.PASSWORD_SHA256_BASE64 === hash && c.PASSWORD_DOUBLE_SHA1_HEX === dsha1 && c.PASSWORD === "";
    });
    expectError(await call("PATCH", `${svcPath()}/password`, { key: "adminA", json: { newPasswordHash: "not-a-hash" } }), 400, /^newPasswordHash/);
    expectError(await call("PATCH", `${svcPath()}/password`, { key: "roA" }), 403);
  });

  it("backups: the instance's backup Jobs as {id, status, serviceId, startedAt}; restoring across organizations is refused [seed]", async () => {
    await eventually("backup CronJob", async () => !!(await berth.client.getOrUndefined(Types.CronJob, ns, `${serviceName}-backup`)));
    await kubectl("create", "job", "-n", ns, `${serviceName}-manual`, `--from=cronjob/${serviceName}-backup`);
    const backups = await eventually("backup listed", async () => {
      const r = expectOk(await call<{ id: string; status: string; serviceId: string; startedAt: string }[]>("GET", `${svcPath()}/backups`, { key: "roA" }));
      return r.length ? r : undefined;
    });
    const b = backups[0]!;
    expect(b.id).to.match(UUID);
    expect(b.serviceId).to.equal(serviceId);
    expect(["done", "error", "in_progress"]).to.include(b.status);
    expect(b.startedAt).to.match(RFC3339);
    expect(expectOk(await call("GET", `${svcPath()}/backups/${b.id}`, { key: "roA" }))).to.deep.include({ id: b.id, serviceId });
    expectError(await call("GET", `${svcPath()}/backups/00000000-0000-4000-8000-000000000000`, { key: "roA" }), 404);
    expectError(await call("GET", `${svcPath(orgB)}/backups`, { key: "adminB" }), 404);
    // Organization B cannot restore A's backup; A can.
    expectError(await call("POST", `/v1/organizations/${orgB}/services`, { key: "adminB", json: { name: "thief", provider: "aws", region: "us-east-1", backupId: b.id } }), 400, /^backupId/);
    const restored = expectOk(await call<{ service: ServiceJSON }>("POST", `/v1/organizations/${orgA}/services`, { key: "adminA", json: { name: `restored-${id}`, provider: "aws", region: "us-east-1", tier: "development", backupId: b.id } }));
    const si = (await berth.client.list<ServiceInstance>(BerthTypes.ServiceInstance, { namespace: ns })).items.find((x) => x.metadata.uid === restored.service.id);
    expect(si?.spec.restoreFrom).to.equal(b.id);
  });

  it("DELETE: 409 unless stopped; then a JSON answer and 404 afterwards [seed]", async () => {
    expectError(await call("DELETE", svcPath(), { key: "adminA" }), 409, /stopped/);
    expectError(await call("DELETE", svcPath(), { key: "devA" }), 403);
    expectOk(await call("PATCH", `${svcPath()}/state`, { key: "adminA", json: { command: "stop" } }));
    expectError(await call("PATCH", `${svcPath()}/state`, { key: "adminA", json: { command: "pause" } }), 400, /^command/);
    await waitState("stopped");
    const gone = await call("DELETE", svcPath(), { key: "adminA" });
    expect(gone.code).to.equal(200);
    expect(gone.body).to.include({ status: 200 });
    expect(gone.body.requestId).to.match(UUID4);
    expectError(await call("GET", svcPath(), { key: "adminA" }), 404);
    expect(expectOk(await call<ServiceJSON[]>("GET", `/v1/organizations/${orgA}/services`, { key: "adminA" })).map((s) => s.id)).to.not.include(serviceId);
  });

  it("bounded fuzz: every cloud path answers 4xx in the envelope to junk, never a 500", async () => {
    const junk = ["x", "", "null", "a".repeat(300), "é漢字", "00000000-0000-4000-8000-000000000000", orgA, orgB];
    const values: unknown[] = [null, true, 0, -1, 1e308, 24, 30, "", "x", "y".repeat(100_000), { a: 1 }, [], ["a"], [{ source: 1 }], { add: "x" }, { add: [{ source: "10.0.0.1" }], remove: [{}] }];
    const fields = ["name", "provider", "region", "tier", "ipAccessList", "minTotalMemoryGb", "maxTotalMemoryGb", "idleScaling", "idleTimeoutMinutes", "numReplicas", "backupId", "command", "newPasswordHash", "newDoubleSha1Hash"];
    let n = 0;
    const rnd = (k: number) => (n * 7919 + k * 104729) % 1_000_003;
    const pick = <T>(xs: T[], k: number): T => xs[rnd(k) % xs.length]!;
    const endpoints = [["GET", "/v1/organizations/{organizationId}"], ...(await import("node:fs")).readFileSync(join(process.env.BERTH_ROOT ?? process.cwd(), "../shared/api-reference/endpoints.tsv"), "utf8").split("\n").filter((l) => l.startsWith("cloud\t")).map((l) => l.split("\t").slice(1, 3))];
    expect(endpoints).to.have.length(11);
    const failures: string[] = [];
    for (const [method = "GET", path = ""] of endpoints) {
      for (let i = 0; i < 8; i++, n++) {
        const url = path.replace("{organizationId}", encodeURIComponent(i % 2 ? orgB : pick(junk, 1))).replace(/\{[^}]+\}/g, () => encodeURIComponent(pick(junk, 2)));
        const body: Record<string, unknown> = {};
        for (let k = 0; k < 1 + (rnd(3) % 5); k++) body[pick(fields, 4 + k)] = pick(values, 10 + k);
        const raw = i === 7 ? pick(["{", "[]", "null", '"x"', "\u0000"], 5) : JSON.stringify(body);
        const r = await fetch(`${berth.apiURL}${url}`, { method, headers: { Authorization: `Basic ${Buffer.from(`${keys.adminB.id}:${keys.adminB.secret}`).toString("base64")}`, ...(method === "GET" || method === "DELETE" ? {} : { "Content-Type": "application/json" }) }, body: method === "GET" || method === "DELETE" ? undefined : raw });
        const text = await r.text();
        let enveloped = false;
        try {
          const b = JSON.parse(text) as Envelope;
          enveloped = b.status === r.status && UUID4.test(b.requestId) && (r.status < 400 ? true : typeof b.error === "string");
        } catch {
          enveloped = false;
        }
        if (r.status >= 500 || !enveloped) failures.push(`${method} ${url} ${raw.slice(0, 60)}: ${r.status} ${text.slice(0, 120)}`);
      }
    }
    expect(failures).to.deep.equal([]);
  });

  it("shares /v1 with Deis without collisions: unknown cloud paths are 404 in the envelope, Deis answers as Deis", async () => {
    expectError(await call("GET", `/v1/organizations/${orgA}/nothing-here`, { key: "adminA" }), 404);
    const deis = await fetch(`${berth.apiURL}/v1/apps`);
    expect(deis.status).to.equal(401);
    expect(await deis.json()).to.have.property("detail");
  });
});
