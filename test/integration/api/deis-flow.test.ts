// The Deis v1 dialect end to end over HTTP, on the same CRs the tsuru dialect and kubectl see.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import type { Pool } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { eventually, kubectl } from "../support/kube.ts";

interface Res {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

describe("Deis v1 dialect: the whole flow over HTTP", function () {
  this.timeout(180_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const [alice, bob, carol] = [`alice-${id}`, `bob-${id}`, `carol-${id}`];
  const appId = `web-${id}`;
  const tokens: Record<string, string> = {};

  const call = async (method: string, path: string, o: { as?: string; json?: unknown } = {}): Promise<Res> => {
    const headers: Record<string, string> = {};
    if (o.as) headers.Authorization = `token ${tokens[o.as]}`;
    if (o.json !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(`${berth.apiURL}${path}`, { method, headers, body: o.json === undefined ? undefined : JSON.stringify(o.json) });
    const text = await r.text();
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = { text };
    }
    return { status: r.status, headers: r.headers, body };
  };

  before(async () => {
    berth = await startBerth({ api: true });
    await berth.client.create<Pool>(BerthTypes.Pool, { metadata: { name: `deis-${id}` }, spec: { default: true, public: true } });
  });
  after(async () => {
    await berth.client.delete(BerthTypes.Pool, undefined, `deis-${id}`).catch(() => undefined);
    await berth.stop();
  });

  it("answers the CLI's unauthenticated probe with 401 in DRF's shape", async () => {
    const r = await call("GET", "/v1/");
    expect(r.status).to.equal(401);
    expect(r.body).to.deep.equal({ detail: "Authentication credentials were not provided." });
    expect(r.headers.get("x_deis_api_version")).to.equal("1.7");
  });

  it("registers and logs in users", async () => {
    for (const u of [alice, bob, carol]) {
      const reg = await call("POST", "/v1/auth/register/", { json: { username: u, password: "opensesame", email: `${u}@example.com` } });
      expect(reg.status).to.equal(201);
      expect(reg.body).to.include({ username: u, email: `${u}@example.com`, is_active: true });
      const login = await call("POST", "/v1/auth/login/", { json: { username: u, password: "opensesame" } });
      expect(login.status).to.equal(200);
      tokens[u] = login.body.token as string;
    }
    const dup = await call("POST", "/v1/auth/register/", { json: { username: alice, password: "x-opensesame" } });
    expect([dup.status, dup.body]).to.deep.equal([400, { username: ["This field must be unique."] }]);
    const bad = await call("POST", "/v1/auth/login/", { json: { username: alice, password: "wrong" } });
    expect(bad.status).to.equal(400);
    expect(bad.body).to.deep.equal({ non_field_errors: ["Unable to log in with provided credentials."] });
    expect((await call("POST", "/v1/auth/register/", { json: { password: "x" } })).body).to.deep.equal({ username: ["This field is required."] });
  });

  it("creates apps, generating a name when none is given, and lists them paged", async () => {
    const gen = await call("POST", "/v1/apps/", { as: alice, json: {} });
    expect(gen.status).to.equal(201);
    expect(gen.body.id).to.match(/^[a-z]+-[a-z]+(-[a-z0-9]{5})?$/);
    const made = await call("POST", "/v1/apps/", { as: alice, json: { id: appId } });
    expect(made.status).to.equal(201);
    expect(made.body).to.include({ id: appId, owner: alice });
    expect((await call("POST", "/v1/apps/", { as: alice, json: { id: "Bad_Id" } })).body).to.have.property("id");
    const list = await call("GET", "/v1/apps/?page_size=1", { as: alice });
    expect(list.body).to.include({ count: 2, previous: null });
    expect(list.body.results).to.have.length(1);
    expect(list.body.next).to.match(/page=2&page_size=1$/);
    expect((await call("DELETE", `/v1/apps/${gen.body.id as string}/`, { as: alice })).status).to.equal(204);
  });

  it("builds from an image and sets config: each change a release named in X-Deis-Release", async () => {
    const build = await call("POST", `/v1/apps/${appId}/builds/`, { as: alice, json: { image: "nginx:1.27" } });
    expect(build.status).to.equal(201);
    const afterBuild = Number(build.headers.get("x-deis-release"));
    expect(afterBuild).to.be.at.least(2);
    const set = await call("POST", `/v1/apps/${appId}/config/`, { as: alice, json: { values: { HELLO: "world" } } });
    expect(set.status).to.equal(201);
    expect(Number(set.headers.get("x-deis-release"))).to.equal(afterBuild + 1);
    expect(set.body.values).to.deep.equal({ HELLO: "world" });
    const unset = await call("POST", `/v1/apps/${appId}/config/`, { as: alice, json: { values: { HELLO: null, BYE: "now" } } });
    expect(unset.body.values).to.deep.equal({ BYE: "now" });
    expect(Number(unset.headers.get("x-deis-release"))).to.equal(afterBuild + 2);
    const bad = await call("POST", `/v1/apps/${appId}/config/`, { as: alice, json: { values: "HELLO=world" } });
    expect(bad.status).to.equal(400);
    expect(bad.body).to.have.property("values");
    expect((await call("POST", `/v1/apps/${appId}/config/`, { as: alice, json: { memory: { web: "lots" } } })).body).to.have.property("memory");
    expect((await call("POST", `/v1/apps/${appId}/config/`, { as: alice, json: { tags: { "bad key!": "x" } } })).status).to.equal(400);
    // Limits become the process's resources; tags select nodes.
    const limits = await call("POST", `/v1/apps/${appId}/config/`, { as: alice, json: { memory: { web: "512M" }, cpu: { web: 512 }, tags: { "berth.dev/node-group": "general" } } });
    expect(limits.status).to.equal(201);
    expect(limits.body).to.deep.include({ memory: { web: "512M" }, cpu: { web: 512 }, tags: { "berth.dev/node-group": "general" } });
    type Deployments = { items: { spec: { template: { spec: { nodeSelector: Record<string, string>; containers: { resources: { limits: Record<string, string> } }[] } } } }[] };
    await eventually("limits applied", async () => {
      const d = JSON.parse(await kubectl("get", "deployments", "-A", "-l", `berth.dev/app=${appId}`, "-o", "json")) as Deployments;
      const spec = d.items[0]?.spec.template.spec;
      return spec?.containers[0]?.resources.limits.memory === "512Mi" && spec.containers[0].resources.limits.cpu === "500m" && spec.nodeSelector["berth.dev/node-group"] === "general";
    });
  });

  it("scales web to 3 and lists three containers up on KWOK nodes", async () => {
    expect((await call("POST", `/v1/apps/${appId}/scale/`, { as: alice, json: { web: -1 } })).status).to.equal(400);
    expect((await call("POST", `/v1/apps/${appId}/scale/`, { as: alice, json: { worker: 1 } })).status).to.equal(400);
    expect((await call("POST", `/v1/apps/${appId}/scale/`, { as: alice, json: { web: 3 } })).status).to.equal(204);
    const containers = await eventually("3 containers up", async () => {
      const r = await call("GET", `/v1/apps/${appId}/containers/web/`, { as: alice });
      const results = r.body.results as { state: string; num: number; release: string }[];
      return results.length === 3 && results.every((c) => c.state === "up") ? results : undefined;
    });
    expect(containers.map((c) => c.num)).to.deep.equal([1, 2, 3]);
    const pods = JSON.parse(await kubectl("get", "pods", "-A", "-l", `berth.dev/app=${appId}`, "-o", "json")) as { items: { spec: { nodeName: string } }[] };
    expect(pods.items.every((p) => p.spec.nodeName.startsWith("kwok-node-"))).to.equal(true);
  });

  it("lists releases v1..vN with summaries and rolls back to one", async () => {
    const list = await call("GET", `/v1/apps/${appId}/releases/`, { as: alice });
    const results = list.body.results as { version: number; summary: string }[];
    expect(results.map((r) => r.version)).to.deep.equal([...Array(results.length).keys()].map((i) => results.length - i));
    expect(results.at(-1)?.summary).to.match(/created the app/);
    expect(results.map((r) => r.summary).join("\n")).to.match(/set BYE; unset HELLO/);
    const v2 = await call("GET", `/v1/apps/${appId}/releases/v2/`, { as: alice });
    expect(v2.body).to.include({ version: 2 });
    const rb = await call("POST", `/v1/apps/${appId}/releases/rollback/`, { as: alice, json: { version: 3 } });
    expect(rb.status).to.equal(201);
    expect(rb.body).to.deep.equal({ version: results.length + 1 });
    const cfg = await call("GET", `/v1/apps/${appId}/config/`, { as: alice });
    expect(cfg.body.values).to.include({ HELLO: "world" });
  });

  it("shares the app with a second user; a third does not see it; the same app is in tsuru and kubectl", async () => {
    expect((await call("GET", `/v1/apps/${appId}/`, { as: bob })).status).to.equal(404);
    expect((await call("POST", `/v1/apps/${appId}/perms/`, { as: alice, json: { username: bob } })).status).to.equal(201);
    expect((await call("GET", `/v1/apps/${appId}/perms/`, { as: alice })).body).to.deep.equal({ users: [bob] });
    expect((await call("GET", `/v1/apps/${appId}/`, { as: bob })).status).to.equal(200);
    expect((await call("GET", `/v1/apps/${appId}/`, { as: carol })).status).to.equal(404);
    expect(((await call("GET", "/v1/apps/", { as: carol })).body as { count: number }).count).to.equal(0);
    const tsuru = await fetch(`${berth.apiURL}/1.0/apps/${appId}`, { headers: { Authorization: `bearer ${tokens[bob]}` } });
    expect(tsuru.status).to.equal(200);
    expect(((await tsuru.json()) as { units: unknown[] }).units.length).to.be.at.least(3);
    expect(await kubectl("get", "apps.berth.dev", "-A")).to.contain(appId);
    expect((await call("DELETE", `/v1/apps/${appId}/perms/${bob}`, { as: alice })).status).to.equal(204);
    expect((await call("GET", `/v1/apps/${appId}/`, { as: bob })).status).to.equal(404);
  });

  it("manages SSH keys and domains, refusing bad ones", async () => {
    // A fresh key: public keys are unique across users (Deis' Key.public), and the test cluster is kept between runs.
    const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const key = `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(randomBytes(32))]).toString("base64")} alice@laptop`;
    expect((await call("POST", "/v1/keys/", { as: alice, json: { id: "laptop", public: "not a key" } })).status).to.equal(400);
    expect((await call("POST", "/v1/keys/", { as: alice, json: { id: "laptop", public: key } })).status).to.equal(201);
    expect(((await call("GET", "/v1/keys/", { as: alice })).body.results as { id: string }[]).map((k) => k.id)).to.deep.equal(["laptop"]);
    expect((await call("DELETE", "/v1/keys/laptop", { as: alice })).status).to.equal(204);
    expect((await call("POST", `/v1/apps/${appId}/domains/`, { as: alice, json: { domain: "not a domain" } })).status).to.equal(400);
    expect((await call("POST", `/v1/apps/${appId}/domains/`, { as: alice, json: { domain: `${appId}.example.com` } })).status).to.equal(201);
    expect(((await call("GET", `/v1/apps/${appId}/domains/`, { as: alice })).body.results as { domain: string }[]).map((d) => d.domain)).to.deep.equal([`${appId}.example.com`]);
    expect((await call("DELETE", `/v1/apps/${appId}/domains/${appId}.example.com`, { as: alice })).status).to.equal(204);
  });

  it("runs a one-off command as a Job and reports its exit code", async () => {
    const r = await call("POST", `/v1/apps/${appId}/run/`, { as: alice, json: { command: "echo hi" } });
    expect(r.status).to.equal(200);
    // Deis' (rc, output) tuple, as the client decodes it.
    expect(r.body).to.be.an("array").with.length(2);
    expect((r.body as unknown as unknown[])[0]).to.equal(0);
  });

  it("destroys the app", async () => {
    expect((await call("DELETE", `/v1/apps/${appId}/`, { as: bob })).status).to.equal(404);
    expect((await call("DELETE", `/v1/apps/${appId}/`, { as: alice })).status).to.equal(204);
    expect((await call("GET", `/v1/apps/${appId}/`, { as: alice })).status).to.equal(404);
  });
});
