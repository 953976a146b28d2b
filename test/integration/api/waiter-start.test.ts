// Waiter's request-driven start on the real node: a token whose cmd is a tiny Python HTTP
// server on $PORT0; a request with x-waiter-token starts it from nothing and gets the server's
// own answer with x-waiter-service-id; /apps and /apps/{id} show the instance; after the idle
// timeout it sleeps (Inactive) and the next request wakes it; `waiter ping` and `waiter kill`
// from the real CLI work; a command that exits gets Waiter's 503 instead of hanging.
// Expected shapes and messages come from twosigma/waiter (cited beside each check).
// Skipped when the cluster has no real node.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import type { App } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import { Types } from "../../../src/kube/resource.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import type { Res as HttpRes } from "../support/http.ts";
import { call as httpCall } from "../support/http.ts";
import { deleteNamespace, eventually, kubectl, kubectlStdin, realPoolManifest } from "../support/kube.ts";
import { waiterCli, waiterRunner } from "../support/waiter-cli.ts";

const REGISTRY = process.env.BERTH_REGISTRY ?? "";
const NODE = process.env.BERTH_REAL_NODE ?? "";

type Res = HttpRes & { ms: number };
type Service = { "service-id": string; status: string; "source-tokens": { token: string; version: string }[][]; "last-request-time": string | null; "instance-counts": { "healthy-instances": number } };
type Instance = { id: string; "healthy?": boolean; host: string; port: number; "k8s/pod-name": string; "k8s/namespace": string };
type PodTimes = { metadata: { creationTimestamp?: string }; status?: { conditions?: { type: string; lastTransitionTime?: string }[] } };
type Detail = { status: string; instances: Record<"active-instances" | "failed-instances" | "killed-instances", Instance[]>; "service-description": Record<string, unknown> };

describe("waiter request-driven start (real node)", function () {
  this.timeout(420_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const ns = `wstart-${id}`;
  const pool = `wreal-${id}`;
  const [aliceEmail, bobEmail] = [`wsa-${id}@example.com`, `wsb-${id}@example.com`];
  let alice = "";
  let bob = "";
  const token = `hello-${id}`;
  const greeting = `berth-${id}`;

  const call = async (method: string, path: string, o: { auth?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<Res> => {
    const start = performance.now();
    const r = await httpCall(berth.apiURL, method, path, { token: o.auth, json: o.json, headers: o.headers });
    return { ...r, ms: performance.now() - start };
  };
  const register = async (email: string) => {
    expect((await call("POST", "/1.0/users", { json: { email, password: "s3cret-pw" } })).status).to.equal(201);
    return (await call("POST", "/1.0/auth/login", { json: { email, password: "s3cret-pw" } })).json<{ token: string }>().token;
  };
  const message = (r: Res) => r.json<{ "waiter-error": { message: string } }>()["waiter-error"].message;
  const serviceRequest = (path: string, auth: string, tok = token, extra: Record<string, string> = {}) => call("GET", path, { auth, headers: { "x-waiter-token": tok, "x-waiter-queue-timeout": "120000", ...extra } });
  const appOf = async (serviceId: string) => berth.client.get<App>(BerthTypes.App, ns, `w-${serviceId.slice(0, 24)}`);

  before(async function () {
    if (!NODE || !REGISTRY) {
      process.stdout.write("    skipped: this cluster has no real node (BERTH_REAL_NODES=0, not root, or another cluster on this machine runs it)\n");
      this.skip();
    }
    await kubectlStdin(realPoolManifest(ns, pool), "apply", "-f", "-");
    process.env.BERTH_WAITER_POOL = pool;
    berth = await startBerth({ api: true });
    alice = await register(aliceEmail);
    bob = await register(bobEmail);
  });
  after(async () => {
    delete process.env.BERTH_WAITER_POOL;
    await berth?.stop();
    await kubectl("delete", "pool", pool, "--ignore-not-found").catch(() => undefined);
    await deleteNamespace(ns);
  });

  it("starts from nothing on the first request, answers with the server's body and x-waiter-service-id, sleeps when idle, wakes on the next request; waiter ping and kill work", async () => {
    const desc = {
      cmd: `mkdir -p /tmp/w && echo "hello from $GREETING" > /tmp/w/index.html && cd /tmp/w && exec python3 -m http.server $PORT0`,
      "cmd-type": "shell",
      cpus: 0.1,
      mem: 64,
      version: "v1",
      env: { GREETING: greeting },
      "health-check-url": "/",
      "health-check-interval-secs": 1,
      "idle-timeout-mins": 1,
      "run-as-user": aliceEmail,
      "permitted-user": aliceEmail,
    };
    const created = await call("POST", "/token", { auth: alice, json: { token, ...desc } });
    expect(created.status, created.text).to.equal(200);
    const etag = created.headers.get("etag") ?? "";

    // handler.clj service-id-handler: the service-id as plain text; the service exists, nothing runs.
    const sid = await call("GET", "/service-id", { auth: alice, headers: { "x-waiter-token": token } });
    expect(sid.status, sid.text).to.equal(200);
    expect(sid.headers.get("content-type")).to.match(/^text\/plain/);
    const serviceId = sid.text;
    expect(serviceId).to.match(/^[0-9a-f]{64}$/);
    expect((await call("GET", "/service-id", { auth: alice, headers: { "x-waiter-token": token } })).text).to.equal(serviceId);
    expect((await appOf(serviceId)).spec.state).to.equal("Sleeping");
    // Not running: not in /apps (waiter-client kill.py waits for a killed service to leave this list), but /apps/{id} answers Inactive.
    expect((await call("GET", `/apps?token=${token}`, { auth: alice })).json()).to.deep.equal([]);
    expect((await call("GET", `/apps/${serviceId}`, { auth: alice })).json<Detail>().status).to.equal("Inactive");

    // The first request starts it and is held until an instance is ready.
    const cold = await serviceRequest("/", alice);
    expect(cold.status, cold.text).to.equal(200);
    expect(cold.text).to.equal(`hello from ${greeting}\n`);
    expect(cold.headers.get("x-waiter-service-id")).to.equal(serviceId);
    const warm = await serviceRequest("/index.html?x=1", alice);
    expect([warm.status, warm.text]).to.deep.equal([200, `hello from ${greeting}\n`]);
    process.stdout.write(`      cold start ${Math.round(cold.ms)} ms (pod start and readiness included), warm request ${Math.round(warm.ms)} ms\n`);

    // /apps lists it, with the token's ETag as its source-tokens version (waiter-client util.py is_service_current).
    const listed = (await call("GET", `/apps?token=${token}&effective-parameters=true`, { auth: alice })).json<Service[]>();
    expect(listed.map((s) => s["service-id"])).to.deep.equal([serviceId]);
    expect(listed[0]).to.include({ status: "Running" });
    expect(listed[0]!["source-tokens"]).to.deep.equal([[{ token, version: etag }]]);
    expect(listed[0]!["last-request-time"]).to.match(/^\d{4}-\d\d-\d\dT/);
    const detail = (await call("GET", `/apps/${serviceId}`, { auth: alice })).json<Detail>();
    expect(detail.status).to.equal("Running");
    expect(detail["service-description"]).to.include({ cmd: desc.cmd, version: "v1", "run-as-user": aliceEmail });
    const inst = detail.instances["active-instances"][0]!;
    expect(inst).to.include({ "healthy?": true, "k8s/namespace": ns });
    expect(inst.id).to.equal(`${serviceId}.${inst["k8s/pod-name"]}`);
    expect(inst.port).to.be.within(31000, 31990);
    // PORT0 in the process's environment is the port it serves on.
    const env = (await appOf(serviceId)).spec.env ?? [];
    expect(env.find((e) => e.name === "PORT0")?.value).to.equal(String(inst.port));

    // Another user: not the token's permitted-user (handler/process_request authorization): 403.
    const other = await serviceRequest("/", bob);
    expect([other.status, message(other)]).to.deep.equal([403, "This user isn't allowed to invoke this service"]);

    // Idle for idle-timeout-mins (1): the service sleeps, its instances are killed, /apps/{id} says Inactive.
    await eventually("asleep", async () => (await appOf(serviceId)).spec.state === "Sleeping", 150_000, 2000);
    await eventually("inactive", async () => (await call("GET", `/apps/${serviceId}`, { auth: alice })).json<Detail>().status === "Inactive", 60_000, 1000);
    // The next request wakes it.
    const woken = await serviceRequest("/", alice);
    expect([woken.status, woken.text, woken.headers.get("x-waiter-service-id")]).to.deep.equal([200, `hello from ${greeting}\n`, serviceId]);
    expect((await appOf(serviceId)).spec.state).to.equal("Running");
    // Beside it, the woken pod's own start: created -> Ready (the API server's timestamps, whole seconds).
    const podName = (await call("GET", `/apps/${serviceId}`, { auth: alice })).json<Detail>().instances["active-instances"][0]!["k8s/pod-name"];
    const pod = await berth.client.get<PodTimes>(Types.Pod, ns, podName);
    const readyAt = pod.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime ?? "";
    const podMs = Date.parse(readyAt) - Date.parse(pod.metadata.creationTimestamp ?? "");
    process.stdout.write(`      wake from sleep ${Math.round(woken.ms)} ms; that pod's creation to Ready ${podMs} ms (1 s resolution)\n`);

    // The real CLI: ping (GET /waiter-ping with x-waiter-token), kill (DELETE /apps/{id}).
    const cli = await waiterCli();
    if (!cli.bin) {
      process.stdout.write(`      (CLI part skipped: ${cli.why})\n`);
      return;
    }
    const waiter = waiterRunner(cli.bin, berth.apiURL, aliceEmail, "s3cret-pw");
    const ping = await waiter("ping", token);
    expect(ping.rc, ping.out).to.equal(0);
    expect(ping.out).to.include("Ping successful.");
    expect(ping.out).to.include("Service is currently Running");
    // One instance: `waiter instance kill -i <id>` (POST /apps/{id}/instance/{iid}/kill); the Deployment replaces it.
    const iid = (await call("GET", `/apps/${serviceId}`, { auth: alice })).json<Detail>().instances["active-instances"][0]!.id;
    const instanceKill = await waiter("instance", "kill", "--instance-id", iid);
    expect(instanceKill.rc, instanceKill.out).to.equal(0);
    expect(instanceKill.out).to.include(`Successfully sent kill to ${iid}`);
    await eventually("killed instance listed", async () => (await call("GET", `/apps/${serviceId}`, { auth: alice })).json<Detail>().instances["killed-instances"].some((i) => i.id === iid), 20_000, 500);
    const killed = await waiter("kill", token);
    expect(killed.rc, killed.out).to.equal(0);
    expect(killed.out).to.include(`Successfully killed ${serviceId}`);
    expect((await appOf(serviceId)).spec.state).to.equal("Sleeping");
    await eventually("gone from /apps", async () => (await call("GET", `/apps?token=${token}`, { auth: alice })).json<Service[]>().length === 0, 30_000, 500);
  });

  it("a command that fails to start gets 503 'Deployment error: Invalid startup command' instead of hanging; bad descriptions get 400", async () => {
    const bad = `bad-${id}`;
    expect((await call("POST", "/token", { auth: alice, json: { token: bad, cmd: "echo boom; exit 3", cpus: 0.1, mem: 32, version: "v1", "health-check-interval-secs": 1 } })).status).to.equal(200);
    const r = await serviceRequest("/", alice, bad, { "x-waiter-queue-timeout": "90000" });
    // settings.clj :messages :bad-startup-command; the answer comes once an instance has failed, not after the queue timeout.
    expect([r.status, message(r)]).to.deep.equal([503, "Deployment error: Invalid startup command"]);
    expect(r.ms).to.be.below(90_000);
    expect(r.headers.get("x-waiter-service-id")).to.match(/^[0-9a-f]{64}$/);
    // settings.clj :messages :invalid-service-description, for an unknown token and for a bad override.
    const unknown = await serviceRequest("/", alice, `nope-${id}`);
    expect([unknown.status, message(unknown)]).to.deep.equal([400, "Service description using waiter headers/token improperly configured"]);
    const badCpus = await serviceRequest("/", alice, token, { "x-waiter-cpus": "0" });
    expect([badCpus.status, message(badCpus)]).to.deep.equal([400, "Service description using waiter headers/token improperly configured"]);
    expect(badCpus.json<{ "waiter-error": { "friendly-error-message": string } }>()["waiter-error"]["friendly-error-message"]).to.equal("cpus must be a positive number.");
    expect((await call("GET", "/", { headers: { "x-waiter-token": token } })).status).to.equal(401);
  });
});
