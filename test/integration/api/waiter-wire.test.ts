// Golden wire tests for the Waiter dialect's tokens. Every expected status, message and body
// shape comes from Waiter's own source (cited repo:path beside each), never from Berth's output.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { userObjectName } from "../../../src/api/identity/store.ts";
import type { App, Release, User, WaiterToken } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import { tokenObjectName } from "../../../src/api/waiter/token-store.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { deleteNamespace, eventually, kubectl, kubectlStdin } from "../support/kube.ts";

interface Res {
  status: number;
  text: string;
  headers: Headers;
  json<T = Record<string, unknown>>(): T;
}

type WaiterError = { "waiter-error": { message: string; status: number } };

describe("waiter wire (golden): tokens", function () {
  this.timeout(180_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const [aliceEmail, bobEmail, adminEmail] = [`walice-${id}@example.com`, `wbob-${id}@example.com`, `wadmin-${id}@example.com`];
  let alice = "";
  let bob = "";
  let admin = "";

  const call = async (method: string, path: string, o: { token?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<Res> => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers.Authorization = `Bearer ${o.token}`;
    let body: string | undefined;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers["Content-Type"] = "application/json";
    }
    const r = await fetch(`${berth.apiURL}${path}`, { method, headers, body });
    const text = await r.text();
    return { status: r.status, text, headers: r.headers, json: <T>() => JSON.parse(text) as T };
  };
  const register = async (email: string) => {
    expect((await call("POST", "/1.0/users", { json: { email, password: "s3cret-pw" } })).status).to.equal(201);
    return (await call("POST", "/1.0/auth/login", { json: { email, password: "s3cret-pw" } })).json<{ token: string }>().token;
  };
  const message = (r: Res) => r.json<WaiterError>()["waiter-error"].message;

  before(async () => {
    berth = await startBerth({ api: true });
    admin = await register(adminEmail);
    await berth.client.mergePatch<User>(BerthTypes.User, undefined, userObjectName(adminEmail), { spec: { admin: true } });
    alice = await register(aliceEmail);
    bob = await register(bobEmail);
    await new Promise((r) => setTimeout(r, 300));
  });
  after(async () => {
    await berth?.stop();
  });

  it("POST /token creates, GET returns the stored fields plus owner with an ETag; include=metadata adds Waiter's metadata", async () => {
    const token = `Tok_${id}.a$b`;
    const desc = { cmd: "python3 -m http.server $PORT0", "cmd-type": "shell", cpus: 0.1, mem: 64, version: "v1", "idle-timeout-mins": 5, env: { GREETING: "hi" } };
    // waiter/src/waiter/token.clj handle-post-token-request: {:message "Successfully created <token>", :service-description <params>} + etag header
    const created = await call("POST", "/token", { token: alice, json: { token, ...desc } });
    expect(created.status, created.text).to.equal(200);
    expect(created.json()).to.deep.equal({ message: `Successfully created ${token}`, "service-description": desc });
    const etag = created.headers.get("etag");
    expect(etag).to.match(/^E-[0-9a-f]{32}$/);
    // It is a CR: visible to kubectl's clients under Berth's namespace.
    const cr = await berth.client.get<WaiterToken>(BerthTypes.WaiterToken, "berth-system", tokenObjectName(token));
    expect(cr.spec).to.include({ token, owner: aliceEmail });

    // handle-get-token-request: the template (plus owner) and the etag header; anyone may read.
    const got = await call("GET", `/token?token=${encodeURIComponent(token)}`, { token: bob });
    expect(got.status, got.text).to.equal(200);
    expect(got.json()).to.deep.equal({ ...desc, owner: aliceEmail });
    expect(got.headers.get("etag")).to.equal(etag);
    const byHeader = await call("GET", "/token", { token: bob, headers: { "x-waiter-token": token } });
    expect(byHeader.json()).to.deep.equal({ ...desc, owner: aliceEmail });

    // include=metadata merges owner, last-update-time (as a date), last-update-user, root, previous.
    const meta = (await call("GET", `/token?token=${encodeURIComponent(token)}&include=metadata`, { token: alice })).json();
    expect(meta).to.include({ owner: aliceEmail, "last-update-user": aliceEmail, root: "berth", cluster: "berth" });
    expect(meta["last-update-time"]).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(meta.previous).to.deep.equal({});

    // Unchanged data: "No changes detected for <token>" with the same etag.
    const same = await call("POST", "/token", { token: alice, json: { token, ...desc } });
    expect(same.json()).to.deep.equal({ message: `No changes detected for ${token}`, "service-description": desc });
    expect(same.headers.get("etag")).to.equal(etag);

    // An update answers "Successfully updated", with a new etag.
    const updated = await call("POST", "/token", { token: alice, json: { token, ...desc, version: "v2" }, headers: { "if-match": etag ?? "" } });
    expect(updated.status, updated.text).to.equal(200);
    expect(updated.json<{ message: string }>().message).to.equal(`Successfully updated ${token}`);
    expect(updated.headers.get("etag")).to.not.equal(etag);
    expect((await call("GET", `/token?token=${encodeURIComponent(token)}`, { token: alice })).headers.get("etag")).to.equal(updated.headers.get("etag"));
  });

  it("If-Match: a stale ETag gets 412 'Cannot modify stale token'; two racing writers with one ETag end with exactly one winner", async () => {
    const token = `race-${id}`;
    const first = await call("POST", "/token", { token: alice, json: { token, cmd: "c", version: "v0" } });
    const etag = first.headers.get("etag") ?? "";
    const writes = await Promise.all(["v1", "v2", "v3"].map((v) => call("POST", "/token", { token: alice, json: { token, cmd: "c", version: v }, headers: { "if-match": etag } })));
    expect(writes.map((w) => w.status).sort()).to.deep.equal([200, 412, 412]);
    // waiter/src/waiter/token.clj validate-token-modification-based-on-hash: (ex-info "Cannot modify stale token" {:status 412 ...})
    for (const w of writes.filter((x) => x.status === 412)) expect(message(w)).to.equal("Cannot modify stale token");
    const winner = writes.find((w) => w.status === 200)!;
    expect((await call("GET", `/token?token=${token}`, { token: alice })).headers.get("etag")).to.equal(winner.headers.get("etag"));

    // An empty If-Match matches only an absent (or deleted) token.
    expect((await call("POST", "/token", { token: alice, json: { token, cmd: "d" }, headers: { "if-match": "" } })).status).to.equal(412);
    const fresh = await call("POST", "/token", { token: alice, json: { token: `fresh-${id}`, cmd: "d" }, headers: { "if-match": "" } });
    expect(fresh.status, fresh.text).to.equal(200);
  });

  it("bad fields get Waiter's messages in {\"waiter-error\": {\"message\"}}", async () => {
    const cases: [Record<string, unknown>, string][] = [
      // waiter/src/waiter/service_description.clj validate-schema friendly messages
      [{ cpus: 0 }, "cpus must be a positive number."],
      [{ cpus: "one" }, "cpus must be a positive number."],
      [{ mem: -5 }, "mem must be a positive number."],
      [{ cmd: "" }, "cmd must be a non-empty string."],
      [{ version: "" }, "version must be a non-empty string."],
      // waiter/src/waiter/token.clj: (str "Unsupported key(s) in token: " (str (vec unknown-keys)))
      [{ cmd: "c", bogus: 1 }, 'Unsupported key(s) in token: ["bogus"]'],
    ];
    for (const [fields, msg] of cases) {
      const r = await call("POST", "/token", { token: alice, json: { token: `bad-${id}`, ...fields } });
      expect(r.status, JSON.stringify(fields)).to.equal(400);
      expect(r.headers.get("content-type")).to.match(/^application\/json/);
      expect(message(r), JSON.stringify(fields)).to.equal(msg);
      expect(r.json<WaiterError>()["waiter-error"].status).to.equal(400);
    }
    // token.clj: "Must provide the token", "Token must match pattern"
    expect(message(await call("POST", "/token", { token: alice, json: { cmd: "c" } }))).to.equal("Must provide the token");
    expect(message(await call("POST", "/token", { token: alice, json: { token: "9bad name", cmd: "c" } }))).to.equal("Token must match pattern");
    // handle-get-token-request: 404 "Couldn't find token <token>"
    const missing = await call("GET", `/token?token=nope-${id}`, { token: alice });
    expect(missing.status).to.equal(404);
    expect(message(missing)).to.equal(`Couldn't find token nope-${id}`);
  });

  it("another user cannot change the token or run as someone else; an administrator can with update-mode=admin", async () => {
    const token = `owned-${id}`;
    const created = await call("POST", "/token", { token: alice, json: { token, cmd: "c" } });
    // token.clj: "Cannot change owner of token" (403), "Cannot run as user" (403), "Cannot create token as user" (403)
    const other = await call("POST", "/token", { token: bob, json: { token, cmd: "hijack" } });
    expect([other.status, message(other)]).to.deep.equal([403, "Cannot change owner of token"]);
    const runAs = await call("POST", "/token", { token: bob, json: { token: `runas-${id}`, cmd: "c", "run-as-user": aliceEmail } });
    expect([runAs.status, message(runAs)]).to.deep.equal([403, "Cannot run as user"]);
    const asOther = await call("POST", "/token", { token: bob, json: { token: `asother-${id}`, cmd: "c", owner: aliceEmail } });
    expect([asOther.status, message(asOther)]).to.deep.equal([403, "Cannot create token as user"]);
    const del = await call("DELETE", "/token", { token: bob, headers: { "x-waiter-token": token } });
    expect([del.status, message(del)]).to.deep.equal([403, "User not allowed to delete token"]);
    // update-mode=admin: "Must specify if-match header for admin mode token updates" (400), "Cannot administer token" (403)
    const noMatch = await call("POST", "/token?update-mode=admin", { token: admin, json: { token, cmd: "admin" } });
    expect([noMatch.status, message(noMatch)]).to.deep.equal([400, "Must specify if-match header for admin mode token updates"]);
    const notAdmin = await call("POST", "/token?update-mode=admin", { token: bob, json: { token, cmd: "x" }, headers: { "if-match": created.headers.get("etag") ?? "" } });
    expect([notAdmin.status, message(notAdmin)]).to.deep.equal([403, "Cannot administer token"]);
    const forced = await call("POST", "/token?update-mode=admin", { token: admin, json: { token, cmd: "admin", owner: aliceEmail }, headers: { "if-match": created.headers.get("etag") ?? "" } });
    expect(forced.status, forced.text).to.equal(200);
    expect((await call("POST", "/token?update-mode=bogus", { token: admin, json: { token, cmd: "x" } })).status).to.equal(400);
    // Without credentials: 401.
    expect((await call("GET", `/token?token=${token}`)).status).to.equal(401);
  });

  it("soft delete keeps the token for include=deleted; hard-delete=true removes it; /tokens lists and filters", async () => {
    const token = `del-${id}`;
    const created = await call("POST", "/token", { token: alice, json: { token, cmd: "c", maintenance: { message: "down" } } });
    const etag = created.headers.get("etag") ?? "";
    // handle-list-tokens-request: entries {owner, token}; with include=metadata also deleted, etag, ...
    const mine = (await call("GET", `/tokens?owner=${encodeURIComponent(aliceEmail)}`, { token: bob })).json<Record<string, unknown>[]>();
    expect(mine).to.deep.include({ owner: aliceEmail, token });
    expect(mine.every((e) => e.owner === aliceEmail)).to.equal(true);
    const withMeta = (await call("GET", `/tokens?owner=${encodeURIComponent(aliceEmail)}&include=metadata`, { token: bob })).json<Record<string, unknown>[]>();
    expect(withMeta.find((e) => e.token === token)).to.include({ owner: aliceEmail, deleted: false, etag, maintenance: true });

    // handle-delete-token-request: {:delete token, :hard-delete false, :success true}
    const soft = await call("DELETE", `/token?token=${token}`, { token: alice });
    expect(soft.status, soft.text).to.equal(200);
    expect(soft.json()).to.deep.equal({ delete: token, "hard-delete": false, success: true });
    expect((await call("GET", `/token?token=${token}`, { token: alice })).status).to.equal(404);
    const kept = await call("GET", `/token?token=${token}&include=deleted&include=metadata`, { token: alice });
    expect(kept.status).to.equal(200);
    expect(kept.json()).to.include({ deleted: true, cmd: "c" });
    expect((await call("GET", `/tokens?owner=${encodeURIComponent(aliceEmail)}`, { token: alice })).json<{ token: string }[]>().map((e) => e.token)).to.not.include(token);
    expect((await call("GET", `/tokens?owner=${encodeURIComponent(aliceEmail)}&include=deleted`, { token: alice })).json<{ token: string }[]>().map((e) => e.token)).to.include(token);
    // Deleting a soft-deleted token again: "Token <t> does not exist" (404).
    const again = await call("DELETE", `/token?token=${token}`, { token: alice });
    expect([again.status, message(again)]).to.deep.equal([404, `Token ${token} does not exist`]);

    // Hard delete of a live token needs If-Match: "Must specify if-match header for token hard deletes".
    const live = `hard-${id}`;
    const liveEtag = (await call("POST", "/token", { token: alice, json: { token: live, cmd: "c" } })).headers.get("etag") ?? "";
    const noIfMatch = await call("DELETE", `/token?token=${live}&hard-delete=true`, { token: alice });
    expect([noIfMatch.status, message(noIfMatch)]).to.deep.equal([400, "Must specify if-match header for token hard deletes"]);
    const staleHard = await call("DELETE", `/token?token=${live}&hard-delete=true`, { token: alice, headers: { "if-match": "E-0" } });
    expect([staleHard.status, message(staleHard)]).to.deep.equal([412, "Cannot modify stale token"]);
    const hard = await call("DELETE", `/token?token=${live}&hard-delete=true`, { token: alice, headers: { "if-match": liveEtag } });
    expect(hard.json()).to.deep.equal({ delete: live, "hard-delete": true, success: true });
    expect(hard.headers.get("etag")).to.equal(liveEtag);
    expect((await call("GET", `/token?token=${live}&include=deleted`, { token: alice })).status).to.equal(404);
    // A soft-deleted token hard-deletes without If-Match.
    expect((await call("DELETE", `/token?token=${token}&hard-delete=true`, { token: alice })).status).to.equal(200);
    expect(await berth.client.getOrUndefined(BerthTypes.WaiterToken, "berth-system", tokenObjectName(token))).to.equal(undefined);
  });

  it("/apps: an App (made by any dialect) is a Waiter service whose id is its Release's content hash; DELETE kills its instances", async () => {
    const ns = `waiter-${id}`;
    const team = `wteam-${id}`;
    await kubectl("create", "namespace", ns).catch(() => undefined);
    try {
      expect((await call("POST", "/1.0/teams", { token: alice, json: { name: team } })).status).to.equal(201);
      await berth.client.create<App>(BerthTypes.App, { metadata: { name: "svc", namespace: ns }, spec: { image: "nginx:1.27", owner: team, processes: [{ name: "web", command: ["nginx"], replicas: 1, ports: [{ port: 8080 }] }] } });
      const release = await eventually("release", async () => (await berth.client.list<Release>(BerthTypes.Release, { namespace: ns })).items[0]);
      const serviceId = release.spec.contentHash;
      type Svc = { "service-id": string; status: string; "instance-counts": { "healthy-instances": number } };
      // waiter-client waiter/subcommands/show.py reads service-id, status, instance-counts.healthy-instances, resource-usage.
      const listed = await eventually("service running", async () => {
        const apps = (await call("GET", "/apps", { token: alice })).json<Svc[]>();
        return apps.find((a) => a["service-id"] === serviceId && a.status === "Running" && a["instance-counts"]["healthy-instances"] === 1);
      });
      expect(listed).to.include.keys("url", "last-request-time", "resource-usage", "scaling-state", "source-tokens", "request-metrics");
      // Not the caller's app: not listed.
      expect((await call("GET", "/apps", { token: bob })).json<Svc[]>().map((a) => a["service-id"])).to.not.include(serviceId);
      // No App was made from this token: an empty list, as waiter-client's delete expects before deleting a token.
      expect((await call("GET", `/apps?token=nothing-${id}&effective-parameters=true`, { token: alice })).json()).to.deep.equal([]);

      type Detail = { status: string; instances: { "active-instances": Record<string, unknown>[] } };
      const detail = (await call("GET", `/apps/${serviceId}`, { token: alice })).json<Detail>();
      expect(detail.status).to.equal("Running");
      expect(detail.instances["active-instances"]).to.have.length(1);
      const inst = detail.instances["active-instances"][0]!;
      expect(inst.id).to.match(new RegExp(`^${serviceId}\\.`));
      expect(inst).to.include({ "healthy?": true, "k8s/namespace": ns });
      expect(inst["k8s/pod-name"]).to.be.a("string");
      expect((await call("GET", `/apps/${serviceId}`, { token: bob })).status).to.equal(404);

      // waiter-client action.py send_signal_to_instance_on_cluster: POST /apps/{id}/instance/{iid}/kill -> {"signal-response": {"success": true, ...}}.
      const iid = String(inst.id);
      const signal = await call("POST", `/apps/${serviceId}/instance/${iid}/kill`, { token: alice });
      expect(signal.status, signal.text).to.equal(200);
      expect(signal.json<{ "signal-response": Record<string, unknown> }>()["signal-response"]).to.include({ success: true, "instance-id": iid });
      expect((await call("POST", `/apps/${serviceId}/instance/${iid}/reboot`, { token: alice })).status).to.equal(400);
      expect((await call("POST", `/apps/${serviceId}/instance/${serviceId}.nope/kill`, { token: bob })).status).to.equal(404);
      await eventually("replaced", async () => {
        const d = (await call("GET", `/apps/${serviceId}`, { token: alice })).json<Detail>();
        return d.instances["active-instances"].length === 1 && d.instances["active-instances"][0]!.id !== iid;
      });

      const killed = await call("DELETE", `/apps/${serviceId}`, { token: alice });
      expect(killed.json()).to.deep.equal({ success: true, "service-id": serviceId, "routers-agree": true });
      expect((await berth.client.get<App>(BerthTypes.App, ns, "svc")).spec.state).to.equal("Sleeping");
      // A killed service still answers, Inactive once its instances are gone.
      await eventually("inactive", async () => (await call("GET", `/apps/${serviceId}`, { token: alice })).json<Detail>().status === "Inactive");
    } finally {
      await deleteNamespace(ns);
    }
  });

  it("GET /service-id: the service-id as plain text, the service created without instances; service requests' errors", async () => {
    const ns = `wsid-${id}`;
    const pool = `wsid-${id}`;
    await kubectlStdin(`{"apiVersion":"berth.dev/v1alpha1","kind":"Pool","metadata":{"name":"${pool}"},"spec":{"public":true,"namespace":"${ns}"}}`, "apply", "-f", "-");
    process.env.BERTH_WAITER_POOL = pool;
    try {
      const token = `sid-${id}`;
      const desc = { cmd: "python3 -m http.server $PORT0", cpus: 0.1, mem: 64, version: "v1" };
      const etag = (await call("POST", "/token", { token: alice, json: { token, ...desc } })).headers.get("etag");
      // handler.clj service-id-handler: 200, the id as the body; core.clj waiter-request?: /service-id is always Waiter's own.
      const r = await call("GET", "/service-id", { token: alice, headers: { "x-waiter-token": token } });
      expect(r.status, r.text).to.equal(200);
      expect(r.headers.get("content-type")).to.match(/^text\/plain/);
      const serviceId = r.text;
      expect(serviceId).to.match(/^[0-9a-f]{64}$/);
      expect((await call("GET", "/service-id", { token: alice, headers: { "x-waiter-token": token } })).text).to.equal(serviceId);
      // A different requester is a different run-as-user: another service.
      expect((await call("GET", "/service-id", { token: bob, headers: { "x-waiter-token": token } })).text).to.not.equal(serviceId);
      // The service exists (an App, asleep) but is not running: /apps leaves it out, /apps/{id} says Inactive with its description.
      const app = await eventually("app", async () => (await berth.client.list<App>(BerthTypes.App, { namespace: ns })).items.find((a) => a.metadata.name === `w-${serviceId.slice(0, 24)}`));
      expect(app.spec.state).to.equal("Sleeping");
      expect((await call("GET", `/apps?token=${token}`, { token: alice })).json()).to.deep.equal([]);
      const detail = await eventually("release", async () => {
        const d = await call("GET", `/apps/${serviceId}`, { token: alice });
        return d.status === 200 && d.json<{ status: string; "service-description": Record<string, unknown>; "source-tokens": unknown }>();
      });
      expect(detail.status).to.equal("Inactive");
      expect(detail["service-description"]).to.include({ ...desc, "run-as-user": aliceEmail, "permitted-user": aliceEmail });
      expect(detail["source-tokens"]).to.deep.equal([[{ token, version: etag }]]);

      // Service requests (x-waiter-token on any other path): credentials first (401), then the description
      // (settings.clj :messages :invalid-service-description, 400), run-as-user on the fly only as oneself
      // (process_request.clj "Authenticated user cannot run service", 403).
      const anon = await call("GET", "/anything", { headers: { "x-waiter-token": token } });
      expect([anon.status, anon.json<WaiterError>()["waiter-error"].status]).to.deep.equal([401, 401]);
      const unknown = await call("GET", "/anything", { token: alice, headers: { "x-waiter-token": `nope-${id}` } });
      expect([unknown.status, message(unknown)]).to.deep.equal([400, "Service description using waiter headers/token improperly configured"]);
      const runAs = await call("GET", "/anything", { token: bob, headers: { "x-waiter-token": token, "x-waiter-run-as-user": aliceEmail } });
      expect([runAs.status, message(runAs)]).to.deep.equal([403, "Authenticated user cannot run service"]);
      // x-waiter-token on /token stays a token request (core.clj waiter-request?).
      expect((await call("GET", "/token", { token: alice, headers: { "x-waiter-token": token } })).json()).to.include({ cmd: desc.cmd });
    } finally {
      delete process.env.BERTH_WAITER_POOL;
      await kubectl("delete", "pool", pool, "--ignore-not-found").catch(() => undefined);
      await deleteNamespace(ns);
    }
  });

  it("root paths do not disturb tsuru and Deis; /status answers", async () => {
    expect((await call("GET", "/status")).json()).to.deep.equal({ status: "ok" });
    expect((await call("GET", "/1.0/apps", { token: alice })).status).to.be.oneOf([200, 204]);
    expect((await call("GET", "/tsuru/healthcheck")).text).to.equal("WORKING");
  });
});
