// The tsuru dialect end to end, over HTTP only: log in, team, pool, app, env (public and
// private), deploy, units on KWOK nodes, rollback, grants, isolation between teams, removal.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import type { App, Release, User } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import { userObjectName } from "../../../src/api/identity/store.ts";
import type { RunningBerth } from "../support/berth.ts";
import type { CallOptions, Res } from "../support/http.ts";
import { call as httpCall } from "../support/http.ts";
import { startBerth } from "../support/berth.ts";
import { selfSignedCertificate } from "../support/cert.ts";
import { eventually, kubectl, kubectlStdin } from "../support/kube.ts";


describe("tsuru dialect: the whole flow over HTTP", function () {
  this.timeout(180_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const [teamA, teamB, teamC, pool, app] = [`ta-${id}`, `tb-${id}`, `tc-${id}`, `pl-${id}`, `shop-${id}`];

  const call = (method: string, path: string, o: CallOptions = {}): Promise<Res> => httpCall(berth.apiURL, method, path, o);


  const register = async (email: string) => {
    expect((await call("POST", "/1.0/users", { form: { email, password: "s3cret-pw" } })).status).to.equal(201);
    const login = await call("POST", "/1.0/auth/login", { form: { email, password: "s3cret-pw" } });
    expect(login.status).to.equal(200);
    return login.json<{ token: string }>().token;
  };

  let admin = "";
  let userB = "";
  let userC = "";

  before(async () => {
    berth = await startBerth({ api: true });
  });
  after(async () => {
    await berth.stop();
  });

  it("advertises the native auth scheme and refuses anonymous calls", async () => {
    expect((await call("GET", "/1.18/auth/schemes")).json()).to.deep.equal([{ name: "native", default: true, data: {} }]);
    const anon = await call("GET", "/1.0/apps");
    expect(anon.status).to.equal(401);
    expect(anon.headers.get("content-type")).to.match(/^text\/plain/);
    expect(anon.text).to.equal("You must provide a valid Authorization header\n");
    expect(anon.headers.get("www-authenticate")).to.match(/^Bearer/);
    expect(anon.headers.get("supported-tsuru")).to.equal("1.0.1");
  });

  it("registers users, logs in, and makes an administrator explicit", async () => {
    admin = await register(`admin-${id}@example.com`);
    // Administrators are explicit: an operator marks one with kubectl.
    await berth.client.mergePatch<User>(BerthTypes.User, undefined, userObjectName(`admin-${id}@example.com`), { spec: { admin: true } });
    const bad = await call("POST", "/1.0/auth/login", { form: { email: `admin-${id}@example.com`, password: "wrong-pw" } });
    expect(bad.status).to.equal(401);
    userB = await register(`bob-${id}@example.com`);
    userC = await register(`carol-${id}@example.com`);
    await new Promise((r) => setTimeout(r, 300));
    const info = await call("GET", "/1.0/users/info", { token: admin });
    expect(info.json<{ Email: string }>().Email).to.equal(`admin-${id}@example.com`);
    // Only a hash of the token is stored.
    const tokens = await kubectl("get", "tokens.berth.dev", "-A", "-o", "json");
    expect(tokens).to.not.contain(admin);
  });

  it("creates teams and a pool", async () => {
    expect((await call("POST", "/1.0/teams", { token: admin, form: { name: teamA } })).status).to.equal(201);
    expect((await call("POST", "/1.0/teams", { token: userB, form: { name: teamB } })).status).to.equal(201);
    expect((await call("POST", "/1.0/teams", { token: userC, form: { name: teamC } })).status).to.equal(201);
    expect((await call("POST", "/1.0/teams", { token: admin, form: { name: teamA } })).status).to.equal(409);
    expect((await call("POST", "/1.0/pools", { token: userB, form: { name: pool } })).status).to.equal(403);
    expect((await call("POST", "/1.0/pools", { token: admin, form: { name: pool, public: "true" } })).status).to.equal(201);
    const pools = await call("GET", "/1.0/pools", { token: admin });
    expect(pools.json<{ name: string }[]>().map((p) => p.name)).to.include(pool);
  });

  it("creates an app, refusing bad names with a 400", async () => {
    const bad = await call("POST", "/1.0/apps", { token: admin, form: { name: "Bad_Name", teamOwner: teamA, pool } });
    expect(bad.status).to.equal(400);
    expect(bad.text).to.match(/Invalid app name/);
    const r = await call("POST", "/1.0/apps", { token: admin, form: { name: app, teamOwner: teamA, pool, description: "the shop" } });
    expect(r.status).to.equal(201);
    expect(r.json()).to.include({ status: "success" });
    expect((await call("POST", "/1.0/apps", { token: admin, form: { name: app, teamOwner: teamA, pool } })).status).to.equal(409);
  });

  it("sets public and private env, deploys an image and ends the stream with OK", async () => {
    const pub = await call("POST", `/1.0/apps/${app}/env`, { token: admin, form: { "envs.0.name": "GREETING", "envs.0.value": "hi", noRestart: "false" } });
    expect(pub.status).to.equal(200);
    expect(pub.headers.get("content-type")).to.equal("application/x-json-stream");
    expect(pub.text.trim().split("\n").map((l) => JSON.parse(l) as { Message: string })[0]?.Message).to.match(/Setting 1 new environment variables/);
    const priv = await call("POST", `/1.0/apps/${app}/env`, { token: admin, form: { "Envs.0.Name": "DB_PASSWORD", "Envs.0.Value": "hunter2", Private: "true" } });
    expect(priv.status).to.equal(200);
    expect(priv.text).to.not.contain('"Error"');
    const env = await call("GET", `/1.0/apps/${app}/env`, { token: admin });
    expect(env.json()).to.deep.include.members([
      { name: "GREETING", value: "hi", alias: "", public: true, managedBy: "" },
      { name: "DB_PASSWORD", value: "*** (private variable)", alias: "", public: false, managedBy: "" },
    ]);
    // The private value is in no listable custom resource.
    expect(await kubectl("get", "apps.berth.dev,releases.berth.dev", "-A", "-o", "json")).to.not.contain("hunter2");

    const deploy = await call("POST", `/1.0/apps/${app}/deploy`, { token: admin, form: { image: "nginx:1.27", message: "first" } });
    expect(deploy.status).to.equal(200);
    expect(deploy.headers.get("x-tsuru-eventid")).to.be.a("string");
    expect(deploy.text.trimEnd().split("\n").at(-1)).to.equal("OK");
  });

  it("adds units and shows them ready on KWOK nodes in app info", async () => {
    const add = await call("PUT", `/1.0/apps/${app}/units`, { token: admin, form: { units: "2", process: "web" } });
    expect(add.status).to.equal(200);
    expect(add.text).to.not.contain('"Error"');
    const info = (await call("GET", `/1.0/apps/${app}`, { token: admin })).json<{ units: { Ready: boolean; Status: string; ProcessName: string; IP: string }[]; teamowner: string; pool: string }>();
    expect(info).to.include({ teamowner: teamA, pool });
    const live = info.units.filter((u) => u.Status === "started");
    expect(live).to.have.length(3);
    expect(live.every((u) => u.Ready && u.ProcessName === "web")).to.equal(true);
    const nodes = JSON.parse(await kubectl("get", "pods", "-A", "-l", `berth.dev/app=${app}`, "-o", "json")) as { items: { spec: { nodeName: string } }[] };
    expect(nodes.items.every((p) => p.spec.nodeName.startsWith("kwok-node-"))).to.equal(true);
  });

  it("rolls back to an earlier image as a new release", async () => {
    const second = await call("POST", `/1.0/apps/${app}/deploy`, { token: admin, form: { image: "nginx:1.28" } });
    expect(second.text.trimEnd().split("\n").at(-1)).to.equal("OK");
    const rb = await call("POST", `/1.0/apps/${app}/deploy/rollback`, { token: admin, form: { image: "nginx:1.27", origin: "rollback" } });
    expect(rb.headers.get("content-type")).to.equal("application/x-json-stream");
    const messages = rb.text.trim().split("\n").map((l) => JSON.parse(l) as { Message: string; Error?: string });
    expect(messages.some((m) => m.Error)).to.equal(false);
    expect(messages.at(-1)?.Message).to.match(/Release v\d+/);
    expect(messages.every((m) => typeof (m as { Timestamp?: string }).Timestamp === "string")).to.equal(true);
    const deploys = (await call("GET", `/1.0/deploys?app=${app}`, { token: admin })).json<{ Image: string; Origin: string; Message: string }[]>();
    expect(deploys[0], JSON.stringify(deploys.map((d) => [d.Image, d.Origin, d.Message]))).to.include({ Image: "nginx:1.27", Origin: "rollback" });
    expect(deploys[0]?.Message).to.match(/rolled back to v\d+/);
    const a = await berth.client.get<App>(BerthTypes.App, `pool-${pool}`, app);
    expect(a.spec.image).to.equal("nginx:1.27");
  });

  it("grants a second team and keeps a third team out", async () => {
    expect((await call("GET", `/1.0/apps/${app}`, { token: userB })).status).to.equal(404);
    expect((await call("PUT", `/1.0/apps/${app}/teams/${teamB}`, { token: admin })).status).to.equal(200);
    expect((await call("PUT", `/1.0/apps/${app}/teams/${teamB}`, { token: admin })).status).to.equal(409);
    expect((await call("GET", `/1.0/apps/${app}`, { token: userB })).status).to.equal(200);
    const refused = await call("GET", `/1.0/apps/${app}`, { token: userC });
    expect(refused.status).to.equal(404);
    expect((await call("POST", `/1.0/apps/${app}/env`, { token: userC, form: { "Envs.0.Name": "X", "Envs.0.Value": "1" } })).status).to.equal(404);
    expect((await call("GET", "/1.0/apps", { token: userC })).status).to.equal(204);
    expect(await kubectl("get", "apps.berth.dev", "-A")).to.contain(app);
  });

  it("answers machinery paths with a clear 501, and unknown paths with a 404, in tsuru's shape", async () => {
    const nodes = await call("GET", "/1.0/docker/nodecontainers", { token: admin });
    expect(nodes.status).to.equal(501);
    expect(nodes.text).to.match(/not on Docker nodes/);
    const unknown = await call("GET", "/1.0/no/such/thing", { token: admin });
    expect(unknown.status).to.equal(404);
    expect(unknown.headers.get("content-type")).to.match(/^text\/plain/);
  });

  it("creates a service instance, binds it (credentials injected, a new release) and unbinds it", async () => {
    await kubectlStdin(
      `apiVersion: berth.dev/v1alpha1
kind: ServiceClass
metadata: {name: redis-${id}}
spec:
  image: redis:7
  port: 6379
  documentation: "Use REDIS_URL."
  bindEnv: [{name: REDIS_URL, value: "redis://:$(PASSWORD)@$(HOST):$(PORT)"}]
  plans: [{name: tiny, memory: 64Mi}]
`,
      "apply",
      "-f",
      "-",
    );
    await eventually("class cached", async () => (await call("GET", `/1.0/services/redis-${id}/plans`, { token: admin })).status === 200);
    expect((await call("GET", `/1.0/services/redis-${id}/doc`, { token: admin })).text).to.equal("Use REDIS_URL.");
    const create = await call("POST", `/1.0/services/redis-${id}/instances`, { token: admin, form: { name: "cache", plan: "tiny", owner: teamA, pool } });
    expect(create.status, create.text).to.equal(201);
    expect((await call("POST", `/1.0/services/redis-${id}/instances`, { token: admin, form: { name: "cache", plan: "nope", owner: teamA, pool } })).status).to.equal(400);
    await eventually("instance up", async () => (await call("GET", `/1.0/services/redis-${id}/instances/cache/status`, { token: admin })).text.endsWith("is up"));
    const bind = await call("PUT", `/1.0/services/redis-${id}/instances/cache/${app}`, { token: admin, form: { noRestart: "false" } });
    expect(bind.status).to.equal(200);
    const withRedis = await eventually("a release with REDIS_URL", async () => {
      const a = await berth.client.get<App>(BerthTypes.App, `pool-${pool}`, app);
      const rel = (await berth.client.list<Release>(BerthTypes.Release, { namespace: `pool-${pool}` })).items.find((r) => r.spec.app === app && r.spec.version === a.status?.currentReleaseVersion);
      return rel?.spec.envNames?.includes("REDIS_URL") ? rel : undefined;
    });
    expect(withRedis.spec.envNames).to.include.members(["GREETING", "DB_PASSWORD", "REDIS_URL"]);
    const info = (await call("GET", `/1.0/services/redis-${id}/instances/cache`, { token: admin })).json<{ Apps: string[] }>();
    expect(info.Apps).to.deep.equal([app]);
    // Bound instances are not removed by accident.
    expect((await call("DELETE", `/1.0/services/redis-${id}/instances/cache`, { token: admin })).status).to.equal(400);
    expect((await call("DELETE", `/1.0/services/redis-${id}/instances/cache/${app}`, { token: admin })).status).to.equal(200);
    expect((await call("DELETE", `/1.0/services/redis-${id}/instances/cache`, { token: admin })).status).to.equal(200);
  });

  it("issues a team token whose value is shown once and which sees the team's apps", async () => {
    const created = await call("POST", "/1.0/tokens", { token: admin, form: { team: teamA, description: "ci", expires_in: "3600" } });
    expect(created.status).to.equal(201);
    const { token, token_id } = created.json<{ token: string; token_id: string }>();
    expect(token).to.match(/^[0-9a-f]{64}$/);
    const listed = (await call("GET", "/1.0/tokens", { token: admin })).json<{ token_id: string; token?: string }[]>();
    expect(listed.find((t) => t.token_id === token_id)).to.not.have.property("token");
    const seen = (await call("GET", "/1.0/apps", { token })).json<{ name: string }[]>();
    expect(seen.map((a) => a.name)).to.include(app);
    expect((await call("DELETE", `/1.0/tokens/${token_id}`, { token: admin })).status).to.equal(200);
    expect((await call("GET", "/1.0/apps", { token })).status).to.equal(401);
  });

  it("lists the deploys as events and reads logs", async () => {
    const events = (await call("GET", `/1.0/events?target.value=${app}`, { token: admin })).json<{ Kind: { Name: string } }[]>();
    expect(events.map((e) => e.Kind.Name)).to.include.members(["app.deploy", "app.deploy.rollback"]);
    const logs = await call("GET", `/1.0/apps/${app}/log?lines=5`, { token: admin });
    expect(logs.status).to.equal(200);
    expect(logs.json()).to.be.an("array"); // KWOK has no kubelet: no lines, but the shape holds
  });

  it("assigns roles: a team-member role in a team context makes a user a member", async () => {
    expect((await call("POST", "/1.0/roles", { token: admin, form: { name: `member-${id}`, context: "team" } })).status).to.equal(201);
    expect((await call("POST", `/1.0/roles/member-${id}/permissions`, { token: admin, form: { permission: ["app.read", "app.deploy"] } })).status).to.equal(200);
    expect((await call("POST", `/1.0/roles/member-${id}/permissions`, { token: admin, form: { permission: "Not Valid" } })).status).to.equal(400);
    expect((await call("GET", `/1.0/apps/${app}`, { token: userC })).status).to.equal(404);
    expect((await call("POST", `/1.0/roles/member-${id}/user`, { token: userB, form: { email: `carol-${id}@example.com`, context: teamA } })).status).to.equal(403);
    expect((await call("POST", `/1.0/roles/member-${id}/user`, { token: admin, form: { email: `carol-${id}@example.com`, context: teamA } })).status).to.equal(200);
    expect((await call("GET", `/1.0/apps/${app}`, { token: userC })).status).to.equal(200);
    expect((await call("DELETE", `/1.0/roles/member-${id}/user/carol-${id}@example.com?context=${teamA}`, { token: admin })).status).to.equal(200);
    expect((await call("GET", `/1.0/apps/${app}`, { token: userC })).status).to.equal(404);
    expect((await call("GET", `/1.0/roles/member-${id}`, { token: admin })).json()).to.deep.include({ context: "team", scheme_names: ["app.read", "app.deploy"] });
  });

  it("sets a TLS certificate for a cname, refusing one that does not match", async () => {
    const host = `${app}.example.com`;
    expect((await call("POST", `/1.0/apps/${app}/cname`, { token: admin, form: { cname: host } })).status).to.equal(200);
    const { certificate, key } = selfSignedCertificate(host);
    expect((await call("PUT", `/1.0/apps/${app}/certificate`, { token: admin, form: { cname: host, certificate, key: "garbage" } })).status).to.equal(400);
    expect((await call("PUT", `/1.0/apps/${app}/certificate`, { token: admin, form: { cname: host, certificate, key } })).status).to.equal(200);
    expect((await call("GET", `/1.2/apps/${app}/certificate`, { token: admin })).json()).to.deep.equal({ ingress: { [host]: certificate } });
    await eventually("ingress with TLS", async () => (await kubectl("get", "ingress", app, "-n", `pool-${pool}`, "-o", "jsonpath={.spec.tls[0].secretName}")) === `${app}-tls`);
    expect((await call("DELETE", `/1.0/apps/${app}/certificate?cname=${host}`, { token: admin })).status).to.equal(200);
  });

  it("removes an old app version but not the one in use", async () => {
    const a = await berth.client.get<App>(BerthTypes.App, `pool-${pool}`, app);
    expect((await call("DELETE", `/1.0/apps/${app}/versions/${a.status?.currentReleaseVersion}`, { token: admin })).status).to.equal(400);
    expect((await call("DELETE", `/1.0/apps/${app}/versions/1`, { token: admin })).status).to.equal(200);
    expect((await call("DELETE", `/1.0/apps/${app}/versions/999`, { token: admin })).status).to.equal(404);
  });

  it("autoscales units, shows deploy events by id and runs one-off commands", async () => {
    expect((await call("POST", `/1.0/apps/${app}/units/autoscale`, { token: admin, form: { process: "web", minUnits: "5", maxUnits: "2" } })).status).to.equal(400);
    expect((await call("POST", `/1.0/apps/${app}/units/autoscale`, { token: admin, form: { process: "web", minUnits: "2", maxUnits: "6", averageCPU: "70%" } })).status).to.equal(200);
    expect((await call("GET", `/1.0/apps/${app}/units/autoscale`, { token: admin })).json()).to.deep.equal([{ process: "web", minUnits: 2, maxUnits: 6, averageCPU: "70%", version: 0 }]);
    await eventually("an HPA", async () => (await kubectl("get", "hpa", `${app}-web`, "-n", `pool-${pool}`, "-o", "jsonpath={.spec.maxReplicas}")) === "6");
    expect((await call("DELETE", `/1.0/apps/${app}/units/autoscale`, { token: admin })).status).to.equal(200);
    const events = (await call("GET", `/1.0/events?target.value=${app}`, { token: admin })).json<{ UniqueID: string }[]>();
    expect((await call("GET", `/1.0/events/${events[0]!.UniqueID}`, { token: admin })).json()).to.deep.include({ UniqueID: events[0]!.UniqueID });
    expect((await call("GET", `/1.0/events/${events[0]!.UniqueID}`, { token: userC })).status).to.equal(404);
    const run = await call("POST", `/1.0/apps/${app}/run`, { token: admin, form: { command: "echo hi" } });
    expect(run.status).to.equal(200);
    expect(run.text).to.not.contain('"Error"');
  });

  it("removes the app", async () => {
    const rm = await call("DELETE", `/1.0/apps/${app}`, { token: admin });
    expect(rm.status).to.equal(200);
    expect(rm.text).to.contain("Done removing application");
    expect((await call("GET", `/1.0/apps/${app}`, { token: admin })).status).to.equal(404);
  });
});
