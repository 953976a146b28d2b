// The Deis v1 dialect on the wire as the Deis 1.13 client and controller have it. Every
// expectation is taken from the Deis sources (repo deis/deis), cited where it is used:
//   controller/api/views.py       UserManagementViewSet, TokenManagementViewSet, AppViewSet,
//                                 ContainerViewSet, AppPermsViewSet, AdminPermsViewSet, UserView
//   controller/api/urls.py        the routes
//   controller/api/permissions.py CanRegenerateToken
//   controller/api/middleware.py  APIVersionMiddleware (DEIS_API_VERSION on every response)
//   controller/api/serializers.py MEMLIMIT_MATCH, DomainSerializer
//   controller/api/tests/test_app.py  test_app_override_id ("This field must be unique.")
//   client/controller/client/http.go  checkAPICompatibility, errors end with res.Status
//   client/controller/models/apps/apps.go  Run decodes [rc, output]; Logs reads raw text
//   version/version.go            APIVersion = "1.7"
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { userObjectName } from "../../../src/api/identity/store.ts";
import type { Pool, Token, User } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import { Types } from "../../../src/kube/resource.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { eventually, kubectl } from "../support/kube.ts";

interface Res {
  status: number;
  statusText: string;
  headers: Headers;
  raw: string;
  body: unknown;
  ms: number;
}
type Obj = Record<string, unknown>;

describe("Deis v1 wire: what the Deis 1.13 client decodes and the controller answered", function () {
  this.timeout(180_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const tokens: Record<string, string> = {};
  const admin = `wadm-${id}`;
  const [alice, bob, carol] = [`walice-${id}`, `wbob-${id}`, `wcarol-${id}`];

  const call = async (method: string, path: string, o: { as?: string; token?: string; json?: unknown } = {}): Promise<Res> => {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    const token = o.token ?? (o.as ? tokens[o.as] : undefined);
    if (token) headers.Authorization = `token ${token}`;
    const t0 = Date.now();
    const r = await fetch(`${berth.apiURL}${path}`, { method, headers, body: o.json === undefined ? undefined : JSON.stringify(o.json) });
    const raw = await r.text();
    const ms = Date.now() - t0;
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      /* raw text */
    }
    return { status: r.status, statusText: r.statusText, headers: r.headers, raw, body, ms };
  };
  const obj = (r: Res) => r.body as Obj;
  const register = async (username: string, password = "opensesame", email = `${username}@example.com`) => {
    const r = await call("POST", "/v1/auth/register/", { json: { username, password, email } });
    expect(r.status, `register ${username}: ${r.raw}`).to.equal(201);
    return r;
  };
  const login = async (username: string, password = "opensesame") => {
    const r = await call("POST", "/v1/auth/login/", { json: { username, password } });
    expect(r.status, `login ${username}: ${r.raw}`).to.equal(200);
    tokens[username] = obj(r).token as string;
    return tokens[username]!;
  };
  const userTokens = async (username: string) => {
    const u = (await berth.client.list<User>(BerthTypes.User)).items.find((x) => x.spec.username === username);
    const all = (await berth.client.list<Token>(BerthTypes.Token, { namespace: "berth-system" })).items;
    return u ? all.filter((t) => t.spec.owner.kind === "User" && t.spec.owner.name === u.metadata.name) : [];
  };

  before(async () => {
    berth = await startBerth({ api: true });
    await berth.client.create<Pool>(BerthTypes.Pool, { metadata: { name: `deisw-${id}` }, spec: { default: true, public: true } });
    await register(admin);
    await berth.client.mergePatch<User>(BerthTypes.User, undefined, userObjectName(`${admin}@example.com`), { spec: { admin: true } });
    await eventually("admin in cache", async () => (await call("GET", "/v1/admin/perms/", { token: await login(admin) })).status === 200);
    for (const u of [alice, bob, carol]) {
      await register(u);
      await login(u);
    }
  });
  after(async () => {
    await berth.client.delete(BerthTypes.Pool, undefined, `deisw-${id}`).catch(() => undefined);
    await berth.stop();
  });

  it("sends DEIS_API_VERSION 1.7 on every response, and Django's upper-case reason phrases (defect 4)", async () => {
    // middleware.py sets DEIS_API_VERSION; the 1.13 client warns unless it equals its APIVersion "1.7".
    const probe = await call("GET", "/v1/");
    expect(probe.status).to.equal(401);
    expect(probe.headers.get("DEIS_API_VERSION")).to.equal("1.7");
    expect(probe.headers.get("X_DEIS_API_VERSION")).to.equal("1.7");
    expect(probe.statusText).to.equal("UNAUTHORIZED");
    const ok = await call("GET", "/v1/apps/", { as: alice });
    expect(ok.headers.get("DEIS_API_VERSION")).to.equal("1.7");
    expect(ok.statusText).to.equal("OK");
    const missing = await call("GET", `/v1/apps/nope-${id}/`, { as: alice });
    expect(missing.status).to.equal(404);
    expect(missing.statusText).to.equal("NOT FOUND");
    expect(missing.headers.get("DEIS_API_VERSION")).to.equal("1.7");
    expect(obj(missing)).to.have.property("detail");
    const unrouted = await call("GET", "/v1/no/such/route/", { as: alice });
    expect([unrouted.status, unrouted.statusText, unrouted.headers.get("DEIS_API_VERSION")]).to.deep.equal([404, "NOT FOUND", "1.7"]);
  });

  it("registers as Deis 1.13 does: underscores, short passwords, a repeated e-mail; DRF's unique error (defect 8)", async () => {
    const u = `w_u_${id}`;
    await register(u, "abc", `shared-${id}@example.com`);
    expect(await login(u, "abc")).to.be.a("string");
    await register(`w_v_${id}`, "opensesame", `shared-${id}@example.com`);
    await login(`w_v_${id}`);
    const dup = await call("POST", "/v1/auth/register/", { json: { username: u, password: "x", email: `other-${id}@example.com` } });
    expect([dup.status, dup.body]).to.deep.equal([400, { username: ["This field must be unique."] }]);
    // A team named like a Deis user's personal team, made through tsuru by someone else, does not
    // make its members the owners of that Deis user's apps: the name is refused.
    const squat = `wsquat-${id}`;
    const team = await fetch(`${berth.apiURL}/1.0/teams`, { method: "POST", headers: { Authorization: `bearer ${tokens[alice]}` }, body: new URLSearchParams({ name: `user-${squat}` }) });
    expect(team.status).to.be.oneOf([201, 400, 403]);
    if (team.status === 201) {
      const taken = await call("POST", "/v1/auth/register/", { json: { username: squat, password: "x" } });
      expect([taken.status, taken.body]).to.deep.equal([400, { username: ["This field must be unique."] }]);
    }
    const bad = await call("POST", "/v1/auth/register/", { json: { username: "no spaces", password: "x" } });
    expect(bad.status).to.equal(400);
    expect(obj(bad)).to.have.property("username");
  });

  it("creates apps at once, with DRF's unique error for a taken id (defect 8; issue 15 defect 12)", async () => {
    const made = await call("POST", "/v1/apps/", { as: alice, json: { id: `wapp-${id}` } });
    expect(made.status).to.equal(201);
    expect(made.ms, "POST /v1/apps latency").to.be.below(1500);
    expect(obj(made)).to.include({ id: `wapp-${id}`, owner: alice });
    // test_app.py test_app_override_id: assertContains(response, 'This field must be unique.', status_code=400)
    const dup = await call("POST", "/v1/apps/", { as: bob, json: { id: `wapp-${id}` } });
    expect([dup.status, dup.body]).to.deep.equal([400, { id: ["This field must be unique."] }]);
    const gen = await call("POST", "/v1/apps/", { as: alice, json: {} });
    expect(gen.status).to.equal(201);
    expect(obj(gen).id).to.match(/^[a-z]+-[a-z]+(-[a-z0-9]{5})?$/);
    expect((await call("DELETE", `/v1/apps/${obj(gen).id as string}/`, { as: alice })).status).to.equal(204);
  });

  it("lets a tsuru user create a Deis app it can then see (issue 15 defect 13)", async () => {
    const email = `wtsuru-${id}@example.com`;
    await fetch(`${berth.apiURL}/1.0/users`, { method: "POST", body: new URLSearchParams({ email, password: "tsuru-pw" }) });
    const login = await fetch(`${berth.apiURL}/1.0/auth/login`, { method: "POST", body: new URLSearchParams({ email, password: "tsuru-pw" }) });
    const token = ((await login.json()) as { token: string }).token;
    const made = await call("POST", "/v1/apps/", { token, json: { id: `wts-${id}` } });
    expect(made.status).to.equal(201);
    expect((await call("GET", `/v1/apps/wts-${id}/`, { token })).status).to.equal(200);
    const tsuru = await fetch(`${berth.apiURL}/1.0/apps/wts-${id}`, { headers: { Authorization: `bearer ${token}` } });
    expect(tsuru.status).to.equal(200);
    expect((await call("DELETE", `/v1/apps/wts-${id}/`, { token })).status).to.equal(204);
  });

  it("keeps DEIS_APP and DEIS_RELEASE out of config values; config:pull then config:push works (defect 7)", async () => {
    const build = await call("POST", `/v1/apps/wapp-${id}/builds/`, { as: alice, json: { image: "nginx:1.27" } });
    expect(build.status).to.equal(201);
    const set = await call("POST", `/v1/apps/wapp-${id}/config/`, { as: alice, json: { values: { HELLO: "world" } } });
    expect(set.status).to.equal(201);
    expect(obj(set).values).to.deep.equal({ HELLO: "world" });
    const pulled = await call("GET", `/v1/apps/wapp-${id}/config/`, { as: alice });
    expect(obj(pulled).values).to.deep.equal({ HELLO: "world" });
    const pushed = await call("POST", `/v1/apps/wapp-${id}/config/`, { as: alice, json: { values: obj(pulled).values } });
    expect(pushed.status).to.equal(201);
    // Still there at run time, on every container.
    await eventually("DEIS_APP in the pod template", async () => (await kubectl("get", "deployments", "-A", "-l", `berth.dev/app=wapp-${id}`, "-o", "jsonpath={.items[0].spec.template.spec.containers[0].env}")).includes('"DEIS_APP"'));
  });

  it("answers a config change that makes no release at once (defect 11; issue 15 defect 12)", async () => {
    const before = await call("GET", `/v1/apps/wapp-${id}/releases/`, { as: alice });
    const noop = await call("POST", `/v1/apps/wapp-${id}/config/`, { as: alice, json: { values: { HELLO: "world" } } });
    expect(noop.status).to.equal(201);
    expect(noop.ms, "no-op config:set latency").to.be.below(2000);
    expect(Number(noop.headers.get("Deis-Release"))).to.equal(obj(before).count);
    expect(Number(noop.headers.get("X-Deis-Release"))).to.equal(obj(before).count);
    const tags = await call("POST", `/v1/apps/wapp-${id}/config/`, { as: alice, json: { tags: { "berth.dev/node-group": "general" } } });
    expect(tags.status).to.equal(201);
    expect(tags.ms, "tags-only config:set latency").to.be.below(5000);
  });

  it("accepts limits in MB/KB/GB (defect 9)", async () => {
    const r = await call("POST", `/v1/apps/wapp-${id}/config/`, { as: alice, json: { memory: { web: "1024MB" } } });
    expect(r.status, r.raw).to.equal(201);
    expect(obj(r).memory).to.deep.equal({ web: "1024M" });
    const bad = await call("POST", `/v1/apps/wapp-${id}/config/`, { as: alice, json: { memory: { web: "5TB" } } });
    expect([bad.status, bad.body]).to.deep.equal([400, { memory: ["Limit format: <number><unit>, where unit = B, K, M or G"] }]);
  });

  it("keeps every acknowledged concurrent config:set and domains:add (issue 15 defect 4)", async () => {
    const keys = [...Array(10).keys()].map((i) => `K${i}`);
    const sets = await Promise.all(keys.map((k) => call("POST", `/v1/apps/wapp-${id}/config/`, { as: alice, json: { values: { [k]: k.toLowerCase() } } })));
    expect(sets.map((r) => r.status)).to.deep.equal(keys.map(() => 201));
    expect(obj(await call("GET", `/v1/apps/wapp-${id}/config/`, { as: alice })).values).to.include(Object.fromEntries(keys.map((k) => [k, k.toLowerCase()])));
    const domains = keys.map((k) => `${k.toLowerCase()}-${id}.example.com`);
    const adds = await Promise.all(domains.map((domain) => call("POST", `/v1/apps/wapp-${id}/domains/`, { as: alice, json: { domain } })));
    expect(adds.map((r) => r.status)).to.deep.equal(domains.map(() => 201));
    const listed = (obj(await call("GET", `/v1/apps/wapp-${id}/domains/`, { as: alice })).results as { domain: string }[]).map((d) => d.domain);
    expect(listed).to.include.members(domains);
    await Promise.all(domains.map((d) => call("DELETE", `/v1/apps/wapp-${id}/domains/${d}`, { as: alice })));
    expect(obj(await call("GET", `/v1/apps/wapp-${id}/domains/`, { as: alice })).count).to.equal(0);
  });

  it("answers ps:scale once the new containers are up (defect 12)", async () => {
    const r = await call("POST", `/v1/apps/wapp-${id}/scale/`, { as: alice, json: { web: 3 } });
    expect(r.status).to.equal(204);
    const list = await call("GET", `/v1/apps/wapp-${id}/containers/web/`, { as: alice });
    const results = obj(list).results as { state: string; num: number }[];
    expect(results.map((c) => [c.num, c.state])).to.deep.equal([
      [1, "up"],
      [2, "up"],
      [3, "up"],
    ]);
  });

  it("restarts all containers, one type, or one container, answering the new ones (defect 5)", async () => {
    const one = await call("POST", `/v1/apps/wapp-${id}/containers/web/2/restart/`, { as: alice });
    expect(one.status, one.raw).to.equal(200);
    expect((one.body as Obj[]).map((c) => c.type)).to.deep.equal(["web"]);
    const type = await call("POST", `/v1/apps/wapp-${id}/containers/web/restart/`, { as: alice });
    expect(type.status, type.raw).to.equal(200);
    expect(type.body as Obj[]).to.have.length(3);
    const all = await call("POST", `/v1/apps/wapp-${id}/containers/restart/`, { as: alice });
    expect(all.status).to.equal(200);
    expect(all.body as Obj[]).to.have.length(3);
    expect((all.body as Obj[]).every((c) => c.state === "up")).to.equal(true);
    expect((await call("POST", `/v1/apps/wapp-${id}/containers/web/9/restart/`, { as: alice })).status).to.equal(404);
  });

  it("returns logs as raw text lines (defect 13)", async () => {
    const r = await call("GET", `/v1/apps/wapp-${id}/logs/`, { as: alice });
    expect(r.status).to.equal(200);
    expect(r.headers.get("content-type")).to.match(/^text\/plain/);
    expect(r.raw.startsWith('"')).to.equal(false);
    for (const line of r.raw.split("\n").filter(Boolean)) expect(line).to.match(new RegExp(`^\\S+ wapp-${id}\\[web\\.\\d+\\]: `));
  });

  it("answers apps:run with Deis' [rc, output] tuple (defect 6)", async () => {
    const r = await call("POST", `/v1/apps/wapp-${id}/run/`, { as: alice, json: { command: "echo hi" } });
    expect(r.status, r.raw).to.equal(200);
    expect(r.body).to.be.an("array").with.length(2);
    expect((r.body as unknown[])[0]).to.equal(0);
    expect((r.body as unknown[])[1]).to.be.a("string");
  });

  it("lets a collaborator remove themselves, nobody else (defect 10)", async () => {
    expect((await call("POST", `/v1/apps/wapp-${id}/perms/`, { as: alice, json: { username: bob } })).status).to.equal(201);
    expect((await call("POST", `/v1/apps/wapp-${id}/perms/`, { as: alice, json: { username: carol } })).status).to.equal(201);
    expect(obj(await call("GET", `/v1/apps/wapp-${id}/perms/`, { as: bob })).users).to.deep.equal([bob, carol].sort());
    // views.py AppPermsViewSet.destroy: someone else's grant needs the owner or an admin.
    expect((await call("DELETE", `/v1/apps/wapp-${id}/perms/${carol}`, { as: bob })).status).to.equal(403);
    expect((await call("DELETE", `/v1/apps/wapp-${id}/perms/${bob}`, { as: bob })).status).to.equal(204);
    expect((await call("GET", `/v1/apps/wapp-${id}/`, { as: bob })).status).to.equal(404);
    expect((await call("DELETE", `/v1/apps/wapp-${id}/perms/${bob}`, { as: alice })).status).to.equal(403);
  });

  it("transfers an app to another user, POST /v1/apps/{id}/ {owner} (defect 5)", async () => {
    expect((await call("POST", `/v1/apps/wapp-${id}/`, { as: carol, json: { owner: carol } })).status).to.equal(403);
    const moved = await call("POST", `/v1/apps/wapp-${id}/`, { as: alice, json: { owner: bob } });
    expect(moved.status).to.equal(200);
    expect(obj(await call("GET", `/v1/apps/wapp-${id}/`, { as: bob }))).to.include({ owner: bob });
    expect((await call("GET", `/v1/apps/wapp-${id}/`, { as: alice })).status).to.equal(404);
  });

  it("adds, lists and removes certificates by common name (certs:add/list/remove)", async () => {
    const host = `tls-${id}.example.com`;
    const dir = mkdtempSync(join(tmpdir(), "deis-cert-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${host}`, "-addext", `subjectAltName=DNS:${host}`, "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem")], { stdio: "ignore" });
    const [certificate, key] = [readFileSync(join(dir, "c.pem"), "utf8"), readFileSync(join(dir, "k.pem"), "utf8")];
    expect((await call("POST", "/v1/certs/", { as: bob, json: { certificate, key } })).status).to.equal(400); // no app has the domain yet
    expect((await call("POST", `/v1/apps/wapp-${id}/domains/`, { as: bob, json: { domain: host } })).status).to.equal(201);
    expect(obj(await call("POST", "/v1/certs/", { as: bob, json: { certificate: "nope", key } }))).to.have.property("certificate");
    const added = await call("POST", "/v1/certs/", { as: bob, json: { certificate, key } });
    expect(added.status, added.raw).to.equal(201);
    expect(obj(added)).to.include({ common_name: host });
    expect(obj(added).expires).to.match(/UTC$/);
    const dup = await call("POST", "/v1/certs/", { as: bob, json: { certificate, key } });
    expect([dup.status, dup.body]).to.deep.equal([400, { common_name: ["This field must be unique."] }]);
    const list = await call("GET", "/v1/certs/", { as: bob });
    expect((obj(list).results as Obj[]).map((c) => c.common_name)).to.include(host);
    expect((obj(await call("GET", "/v1/certs/", { as: alice })).results as Obj[]).map((c) => c.common_name)).to.not.include(host); // alice no longer sees the app
    expect((await call("DELETE", `/v1/certs/${host}`, { as: bob })).status).to.equal(204);
    expect((await call("DELETE", `/v1/certs/${host}`, { as: bob })).status).to.equal(404);
    expect((await call("DELETE", `/v1/apps/wapp-${id}/domains/${host}`, { as: bob })).status).to.equal(204);
  });

  it("refuses a repeated key or domain with Deis' messages (defect 8)", async () => {
    // Fresh ed25519 public keys (public keys are unique across all users, and the cluster is kept between runs).
    const ed25519 = (comment: string) => {
      const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
      return `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(randomBytes(32))]).toString("base64")} ${comment}`;
    };
    const [key, other] = [ed25519("w@x"), ed25519("w@y")];
    expect((await call("POST", "/v1/keys/", { as: bob, json: { id: `k-${id}`, public: key } })).status).to.equal(201);
    const samePub = await call("POST", "/v1/keys/", { as: carol, json: { id: `k2-${id}`, public: key } });
    expect([samePub.status, samePub.body]).to.deep.equal([400, { public: ["This field must be unique."] }]);
    const sameId = await call("POST", "/v1/keys/", { as: bob, json: { id: `k-${id}`, public: other } });
    expect([sameId.status, sameId.body]).to.deep.equal([400, { id: ["This field must be unique."] }]);
    expect((await call("DELETE", `/v1/keys/k-${id}`, { as: bob })).status).to.equal(204);
    expect((await call("POST", `/v1/apps/wapp-${id}/domains/`, { as: bob, json: { domain: `w-${id}.example.com` } })).status).to.equal(201);
    const taken = await call("POST", `/v1/apps/wapp-${id}/domains/`, { as: bob, json: { domain: `w-${id}.example.com` } });
    expect([taken.status, taken.body]).to.deep.equal([400, { domain: [`The domain w-${id}.example.com is already in use by another app`] }]);
    expect((await call("DELETE", `/v1/apps/wapp-${id}/`, { as: bob })).status).to.equal(204);
  });

  it("lets only administrators list users, with Django's integer ids (defect 5, GET /v1/users/)", async () => {
    const denied = await call("GET", "/v1/users/", { as: alice });
    expect([denied.status, denied.body]).to.deep.equal([403, { detail: "You do not have permission to perform this action." }]);
    const list = await call("GET", "/v1/users/?page_size=1000", { as: admin });
    expect(list.status).to.equal(200);
    const results = obj(list).results as Obj[];
    const me = results.find((r) => r.username === alice);
    expect(me).to.include({ email: `${alice}@example.com`, is_superuser: false, is_active: true });
    expect(me?.id).to.be.a("number");
  });

  it("grants and revokes administrators, DELETE /v1/admin/perms/{user} (defect 5)", async () => {
    expect((await call("POST", "/v1/admin/perms/", { as: alice, json: { username: bob } })).status).to.equal(403);
    expect((await call("POST", "/v1/admin/perms/", { as: admin, json: { username: bob } })).status).to.equal(201);
    await eventually("bob is admin", async () => (await call("GET", "/v1/users/", { as: bob })).status === 200);
    expect((await call("DELETE", `/v1/admin/perms/${bob}`, { as: admin })).status).to.equal(204);
    await eventually("bob is no admin", async () => (await call("GET", "/v1/users/", { as: bob })).status === 403);
  });

  it("resets another user's password for administrators without the current one (defect 3)", async () => {
    const reset = await call("POST", "/v1/auth/passwd/", { as: admin, json: { username: carol, new_password: "s3cr3t" } });
    expect([reset.status, reset.body]).to.deep.equal([200, { status: "password set" }]);
    expect((await call("POST", "/v1/auth/login/", { json: { username: carol, password: "opensesame" } })).status).to.equal(400);
    await login(carol, "s3cr3t");
    expect((await call("POST", "/v1/auth/passwd/", { as: alice, json: { username: carol, new_password: "x" } })).status).to.equal(403);
    const wrong = await call("POST", "/v1/auth/passwd/", { as: carol, json: { password: "nope", new_password: "x" } });
    expect([wrong.status, wrong.body]).to.deep.equal([400, { detail: "Current password does not match" }]);
    expect((await call("POST", "/v1/auth/passwd/", { as: carol, json: { password: "s3cr3t", new_password: "opensesame" } })).status).to.equal(200);
    expect((await call("GET", "/v1/apps/", { as: carol })).status).to.equal(200);
  });

  it("regenerates the named user's token, or every user's, for administrators only (defect 2)", async () => {
    // permissions.py CanRegenerateToken: "username" or "all" in the body needs is_superuser.
    const denied = await call("POST", "/v1/auth/tokens/", { as: alice, json: { username: bob } });
    expect(denied.status).to.equal(403);
    expect((await call("GET", "/v1/apps/", { as: bob })).status).to.equal(200);
    const adminBefore = tokens[admin]!;
    const regen = await call("POST", "/v1/auth/tokens/", { as: admin, json: { username: bob } });
    expect(regen.status).to.equal(200);
    const fresh = obj(regen).token as string;
    expect(fresh).to.be.a("string").and.not.equal(tokens[bob]);
    expect((await call("GET", "/v1/apps/", { as: bob })).status).to.equal(401);
    expect((await call("GET", "/v1/apps/", { token: fresh })).status).to.equal(200);
    expect((await call("GET", "/v1/apps/", { token: adminBefore })).status).to.equal(200);
    tokens[bob] = fresh;
    // Own token, no body.
    const own = await call("POST", "/v1/auth/tokens/", { as: carol });
    expect(own.status).to.equal(200);
    expect((await call("GET", "/v1/apps/", { as: carol })).status).to.equal(401);
    tokens[carol] = obj(own).token as string;
    expect((await call("GET", "/v1/apps/", { as: carol })).status).to.equal(200);
  });

  it("cancels the named account only for administrators, never the caller's, and refuses owners of apps (defect 1)", async () => {
    const victim = `wvic-${id}`;
    await register(victim);
    const victimToken = await login(victim);
    expect((await userTokens(victim)).length).to.be.at.least(1);
    const secretRef = (await berth.client.list<User>(BerthTypes.User)).items.find((x) => x.spec.username === victim)?.spec.passwordSecretRef;
    expect(secretRef).to.be.a("string");
    expect(await berth.client.getOrUndefined(Types.Secret, "berth-system", secretRef!)).to.not.equal(undefined);
    // views.py UserManagementViewSet.destroy: another user's name needs is_superuser, else PermissionDenied.
    expect((await call("DELETE", "/v1/auth/cancel/", { as: alice, json: { username: victim } })).status).to.equal(403);
    // An owner of apps cannot be removed: 409 {"detail": "<user> still has applications assigned. ..."}.
    const app = await call("POST", "/v1/apps/", { token: victimToken, json: { id: `wvic-app-${id}` } });
    expect(app.status).to.equal(201);
    const owns = await call("DELETE", "/v1/auth/cancel/", { as: admin, json: { username: victim } });
    expect([owns.status, owns.body]).to.deep.equal([409, { detail: `${victim} still has applications assigned. Delete or transfer ownership` }]);
    expect((await call("DELETE", `/v1/apps/wvic-app-${id}/`, { token: victimToken })).status).to.equal(204);
    const gone = await call("DELETE", "/v1/auth/cancel/", { as: admin, json: { username: victim } });
    expect(gone.status).to.equal(204);
    // The victim is gone, the administrator is not.
    expect((await call("GET", "/v1/apps/", { token: victimToken })).status).to.equal(401);
    expect((await call("GET", "/v1/apps/", { as: admin })).status).to.equal(200);
    expect((await call("POST", "/v1/auth/login/", { json: { username: victim, password: "opensesame" } })).status).to.equal(400);
    // Its credentials went with it: no Token and no password Secret left to revive.
    expect(await userTokens(victim)).to.deep.equal([]);
    await eventually("the password Secret collected with its User", async () => (await berth.client.getOrUndefined(Types.Secret, "berth-system", secretRef!)) === undefined);
    await register(victim);
    expect((await call("GET", "/v1/apps/", { token: victimToken })).status).to.equal(401);
    // Cancelling oneself still works (no username in the body).
    const self = await login(victim);
    expect((await call("DELETE", "/v1/auth/cancel/", { token: self })).status).to.equal(204);
    expect((await call("GET", "/v1/apps/", { as: admin })).status).to.equal(200);
  });

  it("regenerates every user's token with all, administrators only (defect 2)", async () => {
    expect((await call("POST", "/v1/auth/tokens/", { as: alice, json: { all: true } })).status).to.equal(403);
    const all = await call("POST", "/v1/auth/tokens/", { as: admin, json: { all: true } });
    expect([all.status, all.raw]).to.deep.equal([200, '""']);
    for (const u of [alice, bob, carol, admin]) expect((await call("GET", "/v1/apps/", { as: u })).status, u).to.equal(401);
  });
});
