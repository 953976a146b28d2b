// Golden wire tests for the tsuru dialect: the exact paths, versions, bodies, headers and
// status codes the tsuru CLI 1.34 uses. Every expected shape comes from the real server's or
// client's source (cited repo:path next to each), never from Berth's own output.
import { randomBytes } from "node:crypto";
import http from "node:http";
import { expect } from "chai";
import { userObjectName } from "../../../src/api/identity/store.ts";
import type { User } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import type { CallOptions, Res } from "../support/http.ts";
import { call as httpCall } from "../support/http.ts";
import { startBerth } from "../support/berth.ts";
import { selfSignedCertificate } from "../support/cert.ts";
import { eventually, kubectl, kubectlStdin } from "../support/kube.ts";


const OBJECT_ID = /^[0-9a-f]{24}$/;

describe("tsuru wire (golden, CLI 1.34)", function () {
  this.timeout(180_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const [team, team2, pool, app, plan, svc] = [`wt-${id}`, `wu-${id}`, `wp-${id}`, `wire-${id}`, `wplan-${id}`, `wsvc-${id}`];
  const ns = `pool-${pool}`;
  let admin = "";
  let solo = ""; // a user in exactly one team
  let duo = ""; // a user in two teams

  const call = (method: string, path: string, o: CallOptions = {}): Promise<Res> => httpCall(berth.apiURL, method, path, o);

  const register = async (email: string) => {
    expect((await call("POST", "/1.0/users", { form: { email, password: "s3cret-pw" } })).status).to.equal(201);
    return (await call("POST", "/1.0/auth/login", { form: { email, password: "s3cret-pw" } })).json<{ token: string }>().token;
  };

  before(async () => {
    berth = await startBerth({ api: true });
    admin = await register(`wadmin-${id}@example.com`);
    await berth.client.mergePatch<User>(BerthTypes.User, undefined, userObjectName(`wadmin-${id}@example.com`), { spec: { admin: true } });
    solo = await register(`wsolo-${id}@example.com`);
    duo = await register(`wduo-${id}@example.com`);
    await new Promise((r) => setTimeout(r, 300));
    expect((await call("POST", "/1.0/teams", { token: solo, form: { name: team } })).status).to.equal(201);
    expect((await call("POST", "/1.0/teams", { token: duo, form: { name: team2 } })).status).to.equal(201);
    expect((await call("POST", `/1.0/roles`, { token: admin, form: { name: `wmember-${id}`, context: "team" } })).status).to.equal(201);
    expect((await call("POST", `/1.0/roles/wmember-${id}/user`, { token: admin, form: { email: `wduo-${id}@example.com`, context: team } })).status).to.equal(200);
    expect((await call("POST", "/1.0/pools", { token: admin, form: { name: pool, public: "true" } })).status).to.equal(201);
    // A default plan: apps created without -p run with it (and show it).
    await kubectlStdin(`apiVersion: berth.dev/v1alpha1\nkind: Plan\nmetadata: {name: ${plan}}\nspec: {cpu: 100m, memory: 128Mi, default: true}\n`, "apply", "-f", "-");
    await eventually("plan cached", async () => (await call("GET", "/1.0/plans", { token: admin })).text.includes(plan));
  });
  after(async () => {
    await kubectl("delete", "plan.berth.dev", plan, "--ignore-not-found").catch(() => undefined);
    await berth?.stop();
  });

  it("#18 app create: an empty teamOwner= means the caller's only team; with several teams, tsuru's 400", async () => {
    // The CLI always sends teamOwner= (tsuru/tsuru-client:tsuru/client/apps.go AppCreate.Run: v.Set("teamOwner", c.teamOwner)).
    const created = await call("POST", "/1.0/apps", { token: solo, form: { name: app, platform: "", plan: "", teamOwner: "", pool, description: "", router: "" } });
    expect(created.status, created.text).to.equal(201);
    // tsuru/tsuru-client:tsuru/client/apps.go decodes the answer into map[string]string.
    expect(Object.values(created.json<Record<string, unknown>>()).every((v) => typeof v === "string")).to.equal(true);
    expect((await call("GET", `/1.0/apps/${app}`, { token: solo })).json()).to.include({ teamowner: team });
    // tsuru/tsuru:permission/permission.go ErrTooManyTeams = {400, "You must provide a team to execute this action."}
    const several = await call("POST", "/1.0/apps", { token: duo, form: { name: `x${app}`, teamOwner: "", pool } });
    expect(several.status).to.equal(400);
    expect(several.headers.get("content-type")).to.match(/^text\/plain/);
    expect(several.text).to.equal("You must provide a team to execute this action.\n");
  });

  it("#20 app info: the default plan, internalAddresses, and plan overrides applied", async () => {
    // tsuru/tsuru:types/app/app.go AppInfo: "plan", "internalAddresses" []AppInternalAddress{Domain, Protocol, Port, Version, Process}.
    const info = (await call("GET", `/1.0/apps/${app}`, { token: solo })).json<{ plan: { name: string; memory: number; cpumilli: number }; internalAddresses: unknown[] }>();
    expect(info.plan).to.include({ name: plan, memory: 128 * 1024 ** 2, cpumilli: 100 });
    expect(info.internalAddresses).to.deep.equal([{ Domain: `${app}-web.${ns}.svc.cluster.local`, Protocol: "TCP", Port: 8888, Version: "", Process: "web" }]);
    // app update --memory 256Mi --cpu 500m: go-tsuruclient UpdateApp{Planoverride: PlanOverride{Memory *int64, Cpumilli *int}}
    // as JSON (tsuru/go-tsuruclient:pkg/tsuru/model_update_app.go, model_plan_override.go).
    const upd = await call("PUT", `/1.0/apps/${app}`, { token: solo, json: { planoverride: { memory: 256 * 1024 ** 2, cpumilli: 500 } } });
    expect(upd.status, upd.text).to.equal(200);
    expect(upd.text).to.not.contain('"Error"');
    const after = (await call("GET", `/1.0/apps/${app}`, { token: solo })).json<{ plan: { name: string; override: { memory: number | null; cpumilli: number | null } } }>();
    expect(after.plan.name).to.equal(plan);
    expect(after.plan.override).to.include({ memory: 256 * 1024 ** 2, cpumilli: 500 });
    await eventually("the Deployment's resources", async () => (await kubectl("get", "deployment", `${app}-web`, "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].resources.limits}")).includes('"memory":"256Mi"'));
    expect(await kubectl("get", "deployment", `${app}-web`, "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].resources.limits.cpu}")).to.equal("500m");
  });

  let deployEventId = "";
  it("#15 deploy, deploy list and event list: 24-hex ObjectIDs, the same id everywhere", async () => {
    const deploy = await call("POST", `/1.0/apps/${app}/deploy`, { token: solo, form: { image: "nginx:1.27", origin: "image" } });
    expect(deploy.text.trimEnd().split("\n").at(-1)).to.equal("OK");
    // tsuru/tsuru:api/deploy.go sets X-Tsuru-Eventid to the event's ObjectID (hex).
    deployEventId = deploy.headers.get("x-tsuru-eventid") ?? "";
    expect(deployEventId).to.match(OBJECT_ID);
    // tsuru/tsuru:app/deploy.go DeployData.ID is a bson.ObjectId: JSON decoding needs 24 hex digits.
    const deploys = (await call("GET", `/1.0/deploys?app=${app}&limit=10`, { token: solo })).json<{ ID: string; Image: string }[]>();
    expect(deploys.length).to.be.greaterThan(0);
    expect(deploys.every((d) => OBJECT_ID.test(d.ID))).to.equal(true);
    expect(deploys[0]).to.include({ ID: deployEventId, Image: "nginx:1.27" });
    expect((await call("GET", `/1.0/deploys/${deployEventId}`, { token: solo })).json()).to.include({ ID: deployEventId });
    // tsuru/tsuru-client:tsuru/client/event.go: GET /1.1/events, decoded into event.Event, printed with UniqueID.Hex().
    const events = (await call("GET", `/1.1/events?target.type=app&target.value=${app}`, { token: solo })).json<{ UniqueID: string }[]>();
    expect(events.every((e) => OBJECT_ID.test(e.UniqueID))).to.equal(true);
    expect(events.map((e) => e.UniqueID)).to.include(deployEventId);
    expect((await call("GET", `/1.1/events/${deployEventId}`, { token: solo })).json()).to.include({ UniqueID: deployEventId });
    // event list -k / -o / -t filters, lower-cased by the CLI (tsuru/tsuru-client:tsuru/client/event.go queryString).
    expect((await call("GET", `/1.1/events?kindname=app.deploy&target.value=${app}`, { token: solo })).json<{ UniqueID: string }[]>().map((e) => e.UniqueID)).to.include(deployEventId);
    expect((await call("GET", `/1.1/events?kindname=app.update.env.set&target.value=${app}`, { token: solo })).status).to.equal(204);
    expect((await call("GET", `/1.1/events?target.type=pool&target.value=${app}`, { token: solo })).status).to.equal(204);
  });

  it("#17 unit kill: DELETE /1.12/apps/{app}/units/{unit} deletes that pod", async () => {
    // The unit the earlier steps started may still be starting: wait until it is up.
    const units = await eventually("one started unit", async () => {
      const started = (await call("GET", `/1.0/apps/${app}`, { token: solo })).json<{ units: { ID: string; Status: string }[] }>().units.filter((u) => u.Status === "started");
      return started.length === 1 && started;
    });
    expect(units).to.have.length(1);
    const unit = units[0]!.ID;
    // tsuru/tsuru-client:tsuru/client/unit.go UnitKill: GetURLVersion("1.12", "/apps/%s/units/%s?force=..."), a JSON stream.
    const kill = await call("DELETE", `/1.12/apps/${app}/units/${unit}?force=true`, { token: solo });
    expect(kill.status, kill.text).to.equal(200);
    expect(kill.headers.get("content-type")).to.equal("application/x-json-stream");
    expect(kill.text).to.not.contain('"Error"');
    await eventually("a replacement unit", async () => {
      const now = (await call("GET", `/1.0/apps/${app}`, { token: solo })).json<{ units: { ID: string; Status: string }[] }>().units;
      return !now.some((u) => u.ID === unit) && now.some((u) => u.Status === "started");
    });
    const unknown = await call("DELETE", `/1.12/apps/${app}/units/nope-${id}`, { token: solo });
    expect(unknown.status).to.equal(404);
    expect(unknown.headers.get("content-type")).to.match(/^text\/plain/);
  });

  it("#16 certificate list: /1.24 answers {routers: {R: {cnames: {C: {certificate, issuer}}}}}, /1.2 the legacy {R: {C: cert}}", async () => {
    const host = `${app}.example.com`;
    expect((await call("POST", `/1.0/apps/${app}/cname`, { token: solo, form: { cname: host } })).status).to.equal(200);
    const { certificate, key } = selfSignedCertificate(host);
    // certificate set: PUT /1.2/apps/{app}/certificate (tsuru/tsuru-client:tsuru/client/certificate.go).
    expect((await call("PUT", `/1.2/apps/${app}/certificate`, { token: solo, form: { cname: host, certificate, key } })).status).to.equal(200);
    // tsuru/tsuru-client:tsuru/client/certificate.go CertificateList: GetURLVersion("1.24", ...) decoded into
    // appCertificate{RouterCertificates map[string]routerCertificate `json:"routers"`} / `json:"cnames"` / {certificate, issuer}.
    const v24 = await call("GET", `/1.24/apps/${app}/certificate`, { token: solo });
    expect(v24.json()).to.deep.equal({ routers: { ingress: { cnames: { [host]: { certificate, issuer: "" } } } } });
    // tsuru/tsuru:api/certificate.go listCertificatesLegacy (GET /1.2): map[router]map[cname]certificate.
    expect((await call("GET", `/1.2/apps/${app}/certificate`, { token: solo })).json()).to.deep.equal({ ingress: { [host]: certificate } });
  });

  it("#17 service instance add with empty owner= and bind/unbind under /1.13/.../apps/{app}", async () => {
    await kubectlStdin(`apiVersion: berth.dev/v1alpha1\nkind: ServiceClass\nmetadata: {name: ${svc}}\nspec:\n  image: redis:7\n  port: 6379\n  bindEnv: [{name: REDIS_URL, value: "redis://$(HOST):$(PORT)"}]\n  plans: [{name: tiny, memory: 64Mi}]\n`, "apply", "-f", "-");
    await eventually("class cached", async () => (await call("GET", `/1.0/services/${svc}/plans`, { token: solo })).status === 200);
    // #18: the CLI sends owner= and teamOwner= even when -t is not given.
    const add = await call("POST", `/1.0/services/${svc}/instances`, { token: solo, form: { name: "cache", plan: "tiny", owner: "", teamOwner: "", pool, description: "" } });
    expect(add.status, add.text).to.equal(201);
    expect((await call("GET", `/1.0/services/${svc}/instances/cache`, { token: solo })).json()).to.include({ TeamOwner: team });
    // tsuru/tsuru:api/server.go: m.Add("1.13", PUT|DELETE, "/services/{service}/instances/{instance}/apps/{app}").
    const bind = await call("PUT", `/1.13/services/${svc}/instances/cache/apps/${app}`, { token: solo, form: { noRestart: "true" } });
    expect(bind.status, bind.text).to.equal(200);
    expect(bind.headers.get("content-type")).to.equal("application/x-json-stream");
    const bound = bind.text.trim().split("\n").map((l) => JSON.parse(l) as { Message: string; Error?: string });
    expect(bound.some((m) => m.Error)).to.equal(false);
    // tsuru/tsuru:api/service_consumption.go bindServiceInstance's closing message.
    expect(bound.map((m) => m.Message).join("")).to.contain(`Instance "cache" is now bound to the app "${app}".`);
    expect((await call("GET", `/1.0/services/${svc}/instances/cache`, { token: solo })).json<{ Apps: string[] }>().Apps).to.deep.equal([app]);
    const unbind = await call("DELETE", `/1.13/services/${svc}/instances/cache/apps/${app}?noRestart=true&force=false`, { token: solo });
    expect(unbind.status, unbind.text).to.equal(200);
    expect(unbind.text).to.contain(`Instance \\"cache\\" is not bound to the app \\"${app}\\" anymore.`);
    expect((await call("DELETE", `/1.0/services/${svc}/instances/cache`, { token: solo })).status).to.equal(200);
    // plan= empty (no -p) is the service's first plan.
    expect((await call("POST", `/1.0/services/${svc}/instances`, { token: solo, form: { name: "cache2", plan: "", owner: "", teamOwner: "" } })).status).to.equal(201);
    expect((await call("GET", `/1.0/services/${svc}/instances/cache2`, { token: solo })).json()).to.include({ PlanName: "tiny" });
    expect((await call("DELETE", `/1.0/services/${svc}/instances/cache2`, { token: solo })).status).to.equal(200);
  });

  it("#18 team token create: an empty team= means the caller's only team", async () => {
    const created = await call("POST", "/1.6/tokens", { token: solo, form: { token_id: `wtok-${id}`, description: "", team: "", expires_in: "0" } });
    expect(created.status, created.text).to.equal(201);
    expect(created.json()).to.include({ team, token_id: `wtok-${id}` });
    const unnamed = await call("POST", "/1.6/tokens", { token: solo, form: { token_id: "", team: "" } });
    expect(unnamed.status, unnamed.text).to.equal(201);
    expect(unnamed.json<{ token_id: string }>().token_id).to.match(new RegExp(`^${team}-`));
    const several = await call("POST", "/1.6/tokens", { token: duo, form: { token_id: `wtok2-${id}`, team: "" } });
    expect(several.status).to.equal(400);
    expect(several.text).to.equal("You must provide a team to execute this action.\n");
  });

  it("#14 token show / token regenerate: a bare JSON string", async () => {
    // tsuru/tsuru-client:tsuru/client/auth.go ShowAPIToken/RegenerateAPIToken: var APIKey string; json.Unmarshal(b, &APIKey).
    for (const method of ["GET", "POST"]) {
      const r = await call(method, "/1.0/users/api-key", { token: solo });
      expect(r.status).to.equal(200);
      const key = r.json<unknown>();
      expect(key).to.be.a("string");
      expect(key).to.match(/^[0-9a-f]{64}$/);
      // The key works as a credential.
      expect((await call("GET", "/1.0/users/info", { token: key as string })).json()).to.include({ Email: `wsolo-${id}@example.com` });
    }
  });

  it("#19 permission list: the root permission \"\" comes first", async () => {
    // tsuru/tsuru-client:tsuru/client/permission.go: builds the tree from permissions[1:] and renames permissions[0] to "*".
    const perms = (await call("GET", "/1.0/permissions", { token: solo })).json<{ name: string; contexts: string[] }[]>();
    expect(perms[0]).to.deep.equal({ name: "", contexts: ["global"] });
    expect(perms.slice(1).map((p) => p.name)).to.include.members(["app", "app.deploy", "team"]);
  });

  it("#21 unknown paths: the 404 text names the path the client sent, never the internal /tsuru/ one", async () => {
    const r = await call("GET", `/1.0/no/such/${id}`, { token: solo });
    expect(r.status).to.equal(404);
    expect(r.headers.get("content-type")).to.match(/^text\/plain/);
    expect(r.text).to.not.contain("/tsuru/");
    expect(r.text).to.contain(`/1.0/no/such/${id}`);
  });

  it("#21 source deploys (multipart upload) without a registry answer why, in tsuru's plain-text error shape", async () => {
    // tsuru/tsuru-client:tsuru/client/deploy.go uploads multipart with a "file" part; the CLI prints the body of any status > 399.
    // With a registry (docs/builder.md) the upload is built: test/integration/builder/.
    const body = new FormData();
    body.append("origin", "app-deploy");
    body.append("file", new Blob([Buffer.from("not really a tar.gz")]), "archive.tar.gz");
    const saved = process.env.BERTH_REGISTRY;
    delete process.env.BERTH_REGISTRY;
    const r = await call("POST", `/1.0/apps/${app}/deploy`, { token: solo, body }).finally(() => {
      if (saved !== undefined) process.env.BERTH_REGISTRY = saved;
    });
    expect(r.status).to.equal(501);
    expect(r.headers.get("content-type")).to.match(/^text\/plain/);
    expect(r.text).to.match(/not available/);
    expect(r.text).to.contain("-i <image>");
    expect(r.text.endsWith("\n")).to.equal(true);
  });

  it("#21 app shell: the WebSocket is accepted and carries the reason, not an opaque bad status", async () => {
    // tsuru/tsuru-client:tsuru/client/shell.go dials /apps/{app}/shell with golang.org/x/net/websocket and copies what it reads to stdout.
    const url = new URL(`${berth.apiURL}/1.0/apps/${app}/shell?isolated=false&width=80&height=24`);
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.request(url, {
        headers: { Authorization: `bearer ${solo}`, Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": randomBytes(16).toString("base64"), Origin: "ws://localhost" },
      });
      req.on("upgrade", (res, socket, head) => {
        expect(res.statusCode).to.equal(101);
        const chunks: Buffer[] = [head];
        socket.on("data", (c: Buffer) => chunks.push(c));
        socket.on("end", () => {
          const all = Buffer.concat(chunks);
          expect(all[0]).to.equal(0x81); // FIN + text frame
          resolve(all.subarray(2, 2 + (all[1]! & 0x7f)).toString("utf8"));
        });
      });
      req.on("response", (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on("error", reject);
      req.end();
    });
    expect(text).to.match(/kubectl exec/);
  });

  it("#21 app log -f follows: a first JSON array, then the stream stays open", async () => {
    // tsuru/tsuru-client:tsuru/client/log.go AppLog: "&follow=1", decodes consecutive JSON arrays until EOF.
    const ac = new AbortController();
    const r = await fetch(`${berth.apiURL}/1.0/apps/${app}/log?lines=0&follow=1`, { headers: { Authorization: `bearer ${solo}` }, signal: ac.signal });
    expect(r.status).to.equal(200);
    expect(r.headers.get("content-type")).to.equal("application/x-json-stream");
    const reader = r.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value ?? new Uint8Array()).toString("utf8")).to.equal("[]\n");
    // Still open after a while: without follow the server would have ended the body.
    const next = await Promise.race([reader.read().then(() => "data or end"), new Promise<string>((r) => setTimeout(() => r("open"), 1500))]);
    expect(next).to.equal("open");
    ac.abort();
    await reader.cancel().catch(() => undefined);
    // Without follow the same request ends after the first array.
    const once = await call("GET", `/1.0/apps/${app}/log?lines=5`, { token: solo });
    expect(once.json()).to.be.an("array");
  });
});
