// Security and reliability reproducers (issue "Hardening"), each against the real API server:
// nothing answers before the caches synced, registration and the administrator are decided
// atomically, concurrent writers all land, malformed input is a 4xx, credentials die with
// their user and never outrank their maker, only Berth's namespace is trusted, private pools
// do not leak, logins are throttled and cost the same for unknown users.
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import winston from "winston";
import { expect } from "chai";
import { userObjectName, ADMIN_MARKER } from "../../../src/api/identity/store.ts";
import { tokenHash } from "../../../src/api/identity/secrets.ts";
import { apiDeps, startApi } from "../../../src/api/start.ts";
import { KubeClient } from "../../../src/kube/client.ts";
import { Types } from "../../../src/kube/resource.ts";
import { silentLogger } from "../../../src/log.ts";
import type { App, Token, User } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import { Manager } from "../../../src/runtime/manager.ts";
import type { RunningBerth } from "../support/berth.ts";
import { installCRDs, startBerth } from "../support/berth.ts";
import { call } from "../support/http.ts";
import type { CallOptions } from "../support/http.ts";
import { eventually, kubectl, kubectlStdin } from "../support/kube.ts";

const id = randomBytes(3).toString("hex");

describe("hardening: the API before its caches synced", function () {
  this.timeout(60_000);

  it("answers 503 (and registers nobody) until every cache synced, then serves; /readyz tells", async () => {
    await installCRDs();
    const client = await KubeClient.create();
    const manager = new Manager({ client, log: silentLogger() });
    const deps = apiDeps(manager, "berth-system", silentLogger());
    const api = await startApi(deps, { apiHost: "127.0.0.1", apiPort: 0 }, silentLogger());
    const base = `http://127.0.0.1:${api.port}`;
    const abort = new AbortController();
    try {
      // The manager has not started: no cache has been read.
      expect((await call(base, "GET", "/healthz")).status).to.equal(200);
      expect((await call(base, "GET", "/readyz")).status).to.equal(503);
      const reg = await call(base, "POST", "/1.0/users", { form: { email: `early-${id}@example.com`, password: "early-pw-1" } });
      expect(reg.status).to.equal(503);
      expect(reg.text).to.match(/starting/);
      expect((await call(base, "POST", "/v1/auth/register/", { json: { username: `early${id}`, password: "early-pw-1", email: `early2-${id}@example.com` } })).status).to.equal(503);
      expect((await call(base, "GET", "/1.0/apps", { token: "whatever" })).status).to.equal(503);
      expect(await client.getOrUndefined(BerthTypes.User, undefined, userObjectName(`early-${id}@example.com`))).to.equal(undefined);

      const done = manager.run(abort.signal);
      await eventually("ready", async () => (await call(base, "GET", "/readyz")).status === 200, 30_000, 50);
      expect((await call(base, "GET", "/1.0/apps", { token: "whatever" })).status).to.equal(401);
      abort.abort();
      await done;
    } finally {
      abort.abort();
      await api.close();
      await manager.close();
      client.close();
    }
  });
});

describe("hardening: identity, concurrency, input, trust", function () {
  this.timeout(240_000);
  let berth: RunningBerth;
  let base = "";
  const api = (method: string, path: string, o?: CallOptions) => call(base, method, path, o);
  const ns = `berth-sec-${id}`;
  const bossEmail = `boss-${id}@example.com`;
  let boss = "";
  const logs: string[] = [];
  const secrets: string[] = []; // every credential the test saw: none may appear outside Secrets

  const register = async (email: string, password = "s3cret-pw") => {
    secrets.push(password);
    return api("POST", "/1.0/users", { form: { email, password } });
  };
  const login = async (email: string, password = "s3cret-pw") => {
    const r = await api("POST", "/1.0/auth/login", { form: { email, password } });
    expect(r.status, r.text).to.equal(200);
    const token = r.json<{ token: string }>().token;
    secrets.push(token);
    return token;
  };

  before(async () => {
    const log = winston.createLogger({
      level: "debug",
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream: new Writable({ write: (chunk: Buffer, _e, cb) => (logs.push(chunk.toString()), cb()) }) })],
    });
    berth = await startBerth({ api: true, namespace: ns, bootstrapAdmin: bossEmail, log });
    base = berth.apiURL;
  });
  after(async () => {
    await berth?.stop();
    await kubectl("delete", "namespace", ns, "--wait=false").catch(() => undefined);
  });

  it("decides the administrator by an atomic claim: only the configured e-mail, once, whoever registers first", async () => {
    const others = await Promise.all([1, 2, 3, 4, 5].map((i) => register(`early${i}-${id}@example.com`)));
    expect(others.map((r) => r.status)).to.deep.equal([201, 201, 201, 201, 201]);
    const attempts = await Promise.all(Array.from({ length: 8 }, (_, i) => register(bossEmail, `boss-pw-${i}`)));
    const won = attempts.findIndex((r) => r.status === 201);
    expect(attempts.filter((r) => r.status === 201)).to.have.length(1);
    expect(attempts.filter((r) => r.status === 409)).to.have.length(7);
    boss = await login(bossEmail, `boss-pw-${won}`);
    const users = (await berth.client.list<User>(BerthTypes.User)).items.filter((u) => u.spec.email.endsWith(`-${id}@example.com`));
    expect(users.filter((u) => u.spec.admin).map((u) => u.spec.email)).to.deep.equal([bossEmail]);
    const marker = await berth.client.get<{ metadata: object; data: { email: string } }>(Types.ConfigMap, ns, ADMIN_MARKER);
    expect(marker.data.email).to.equal(bossEmail);
  });

  it("registers an e-mail once under 20 concurrent requests, and the password is the winner's", async () => {
    const email = `race-${id}@example.com`;
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => register(email, `race-pw-${i}`)));
    expect(rs.filter((r) => r.status === 201)).to.have.length(1);
    expect(rs.filter((r) => r.status === 409)).to.have.length(19);
    const won = rs.findIndex((r) => r.status === 201);
    await login(email, `race-pw-${won}`);
    const loser = (won + 1) % 20;
    expect((await api("POST", "/1.0/auth/login", { form: { email, password: `race-pw-${loser}` } })).status).to.equal(401);
    // Registering it again changes nothing.
    expect((await register(email, "takeover-pw")).status).to.equal(409);
    expect((await api("POST", "/1.0/auth/login", { form: { email, password: "takeover-pw" } })).status).to.equal(401);
    await login(email, `race-pw-${won}`);
  });

  describe("with a team, a pool and an app", () => {
    const team = `sec-${id}`;
    const pool = `secpool-${id}`;
    const app = `sec-app-${id}`;

    before(async () => {
      expect((await api("POST", "/1.0/teams", { token: boss, form: { name: team } })).status).to.equal(201);
      expect((await api("POST", "/1.0/pools", { token: boss, form: { name: pool, public: "true" } })).status).to.equal(201);
      const r = await api("POST", "/1.0/apps", { token: boss, form: { name: app, teamOwner: team, pool } });
      expect(r.status, r.text).to.equal(201);
    });

    it("keeps every acknowledged write of 20 concurrent env sets and 20 concurrent cname adds", async () => {
      const envs = await Promise.all(
        Array.from({ length: 20 }, (_, i) => api("POST", `/1.0/apps/${app}/env`, { token: boss, form: { "Envs.0.Name": `VAR_${i}`, "Envs.0.Value": `v${i}`, noRestart: "true" } })),
      );
      const ok = envs.map((r, i) => (r.status === 200 && !r.text.includes('"Error"') ? i : -1)).filter((i) => i >= 0);
      expect(ok.length, envs.map((r) => r.text).join("\n")).to.equal(20);
      const cnames = await Promise.all(Array.from({ length: 20 }, (_, i) => api("POST", `/1.0/apps/${app}/cname`, { token: boss, form: { cname: `c${i}-${id}.example.com` } })));
      expect(cnames.map((r) => r.status)).to.deep.equal(Array(20).fill(200));
      const cur = (await berth.client.list<App>(BerthTypes.App)).items.find((a) => a.metadata.name === app)!;
      expect((cur.spec.env ?? []).map((e) => e.name).sort()).to.deep.equal(ok.map((i) => `VAR_${i}`).sort());
      expect(cur.spec.domains ?? []).to.have.length(20);
    });

    it("keeps every key of 10 concurrent private env sets", async () => {
      const rs = await Promise.all(
        Array.from({ length: 10 }, (_, i) => api("POST", `/1.0/apps/${app}/env`, { token: boss, form: { "Envs.0.Name": `SECRET_${i}`, "Envs.0.Value": `hidden-${id}-${i}`, Private: "true" } })),
      );
      for (let i = 0; i < 10; i++) secrets.push(`hidden-${id}-${i}`);
      expect(rs.every((r) => r.status === 200 && !r.text.includes('"Error"')), rs.map((r) => r.text).join("\n")).to.equal(true);
      const env = await api("GET", `/1.0/apps/${app}/env`, { token: boss });
      const names = env.json<{ name: string }[]>().map((v) => v.name);
      for (let i = 0; i < 10; i++) expect(names).to.include(`SECRET_${i}`);
    });

    it("answers malformed types with 400, never 500, and stays healthy", async () => {
      const deep = "[".repeat(20_000) + "]".repeat(20_000);
      const cases: [string, string, CallOptions][] = [
        ["POST", "/1.0/auth/login", { raw: '{"email":{},"password":"x"}' }],
        ["POST", "/1.0/apps", { token: boss, raw: '{"name":{}}' }],
        ["POST", `/1.0/apps/${app}/env`, { token: boss, raw: `{"envs":[{"name":"DEEP","value":${deep}}]}` }],
        ["POST", `/1.0/apps/${app}/env`, { token: boss, raw: '{"envs":[{"name":"X","value":{"a":1}}]}' }],
        ["POST", `/1.0/apps/${app}/units/autoscale`, { token: boss, raw: '{"process":"web","minUnits":1,"maxUnits":2,"averageCPU":{"x":1}}' }],
        ["POST", "/1.0/teams", { token: boss, raw: '{"name":["a",{"b":2}]}' }],
        ["POST", "/v1/auth/login/", { raw: '{"username":{},"password":[]}' }],
      ];
      for (const [method, path, o] of cases) {
        const r = await api(method, path, o);
        expect(r.status, `${method} ${path}: ${r.text}`).to.be.within(400, 499);
      }
      expect((await api("GET", "/healthz")).status).to.equal(200);
    });

    it("does not show private pools, or which teams exist, to outsiders", async () => {
      const secretPool = `hidden-pool-${id}`;
      expect((await api("POST", "/1.0/pools", { token: boss, form: { name: secretPool, public: "false" } })).status).to.equal(201);
      expect((await api("POST", `/1.0/pools/${secretPool}/team`, { token: boss, form: { team } })).status).to.equal(200);
      expect((await register(`outsider-${id}@example.com`)).status).to.equal(201);
      const outsider = await login(`outsider-${id}@example.com`);
      const r = await api("GET", `/1.0/pools/${secretPool}`, { token: outsider });
      expect(r.status).to.equal(404);
      expect((await api("GET", "/1.0/constraints", { token: outsider })).text).to.not.include(secretPool);
      const existing = await api("GET", `/1.0/teams/${team}`, { token: outsider });
      const missing = await api("GET", `/1.0/teams/nope-${id}`, { token: outsider });
      expect([existing.status, existing.text]).to.deep.equal([missing.status, missing.text]);
      expect((await api("GET", `/1.0/pools/${secretPool}`, { token: boss })).status).to.equal(200);
    });

    it("limits team tokens: no team creation, nothing that outlives or outranks them", async () => {
      const made = await api("POST", "/1.0/tokens", { token: boss, form: { team, token_id: `tt-${id}`, expires_in: "600" } });
      expect(made.status, made.text).to.equal(201);
      const tt = made.json<{ token: string }>().token;
      secrets.push(tt);
      expect((await api("POST", "/1.0/teams", { token: tt, form: { name: `tt-team-${id}` } })).status).to.equal(403);
      expect((await api("POST", "/1.0/tokens", { token: tt, form: { team } })).status).to.equal(403);
      expect((await api("POST", "/1.0/tokens", { token: tt, form: { team, expires_in: "6000" } })).status).to.equal(403);
      const child = await api("POST", "/1.0/tokens", { token: tt, form: { team, expires_in: "60" } });
      expect(child.status, child.text).to.equal(201);
      secrets.push(child.json<{ token: string }>().token);
      expect((await api("POST", "/1.0/teams", { token: boss, form: { name: `${team}-other` } })).status).to.equal(201);
      expect((await api("PUT", `/1.0/apps/${app}/teams/${team}-other`, { token: tt })).status).to.equal(403);
      expect((await api("PUT", `/1.0/apps/${app}/teams/${team}-other`, { token: boss })).status).to.equal(200);
    });

    it("trusts Tokens only in Berth's namespace and private env only from Secrets made for the app", async () => {
      const appObj = (await berth.client.list<App>(BerthTypes.App)).items.find((a) => a.metadata.name === app)!;
      const appNs = appObj.metadata.namespace ?? "";
      const forged = `forged-${randomBytes(16).toString("hex")}`;
      await kubectlStdin(
        JSON.stringify({ apiVersion: "berth.dev/v1alpha1", kind: "Token", metadata: { name: `forged-${id}`, namespace: appNs }, spec: { owner: { kind: "User", name: userObjectName(bossEmail) }, kind: "APIKey", tokenHash: tokenHash(forged) } }),
        "apply", "-f", "-",
      );
      await new Promise((r) => setTimeout(r, 500));
      expect((await api("GET", "/1.0/users/info", { token: forged })).status).to.equal(401);

      await kubectl("create", "secret", "generic", `unrelated-${id}`, "-n", appNs, "--from-literal=STOLEN=yes");
      await berth.client.mergePatch(BerthTypes.App, appNs, app, { spec: { privateEnvSecret: `unrelated-${id}` } });
      const refused = await eventually("the App refuses the Secret", async () => {
        const a = await berth.client.get<App>(BerthTypes.App, appNs, app);
        return a.status?.conditions?.find((c) => c.type === "Ready" && c.reason === "PrivateEnvNotTrusted");
      });
      expect(refused.message).to.match(/not labelled berth.dev\/app=/);
    });
  });

  it("kills a user's credentials with the user: a re-registered e-mail does not revive old tokens", async () => {
    const email = `gone-${id}@example.com`;
    expect((await register(email)).status).to.equal(201);
    const old = await login(email);
    const key = await api("GET", "/1.0/users/api-key", { token: old });
    const oldKey = key.json<string>(); // a bare JSON string, as the tsuru CLI decodes it
    secrets.push(oldKey);
    expect((await api("DELETE", `/1.0/users?user=${encodeURIComponent(email)}`, { token: boss })).status).to.equal(200);
    await eventually("the old user's tokens are collected", async () => {
      const tokens = await berth.client.list<Token>(BerthTypes.Token, { namespace: ns });
      return !tokens.items.some((t) => t.metadata.ownerReferences?.some((r) => r.name === userObjectName(email)));
    });
    expect((await register(email, "second-life")).status).to.equal(201);
    expect((await api("GET", "/1.0/users/info", { token: old })).status).to.equal(401);
    expect((await api("GET", "/1.0/users/info", { token: oldKey })).status).to.equal(401);
  });

  it("shows one API key until it is regenerated, which revokes the old one", async () => {
    const email = `key-${id}@example.com`;
    expect((await register(email)).status).to.equal(201);
    const t = await login(email);
    const a = (await api("GET", "/1.0/users/api-key", { token: t })).json<string>();
    const b = (await api("GET", "/1.0/users/api-key", { token: t })).json<string>();
    expect(a).to.equal(b);
    const c = (await api("POST", "/1.0/users/api-key", { token: t })).json<string>();
    secrets.push(a, c);
    expect(c).to.not.equal(a);
    expect((await api("GET", "/1.0/users/info", { token: a })).status).to.equal(401);
    expect((await api("GET", "/1.0/users/info", { token: c })).status).to.equal(200);
  });

  it("ends the user's other sessions when the password changes", async () => {
    const email = `pw-${id}@example.com`;
    expect((await register(email)).status).to.equal(201);
    const s1 = await login(email);
    const s2 = await login(email);
    const r = await api("PUT", "/1.0/users/password", { token: s1, form: { old: "s3cret-pw", new: "n3w-secret" } });
    secrets.push("n3w-secret");
    expect(r.status, r.text).to.equal(200);
    expect((await api("GET", "/1.0/users/info", { token: s2 })).status).to.equal(401);
    expect((await api("GET", "/1.0/users/info", { token: s1 })).status).to.equal(200);
  });

  it("throttles wrong passwords per account, and unknown accounts cost as much as known ones", async () => {
    const email = `slow-${id}@example.com`;
    expect((await register(email)).status).to.equal(201);
    const time = async (who: string) => {
      const t0 = performance.now();
      const r = await api("POST", "/1.0/auth/login", { form: { email: who, password: "wrong-pw" } });
      expect(r.status).to.equal(401);
      return performance.now() - t0;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 4; i++) {
      known.push(await time(email));
      unknown.push(await time(`nobody${i}-${id}@example.com`));
    }
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    expect(median(unknown), `unknown ${median(unknown).toFixed(1)} ms vs known ${median(known).toFixed(1)} ms`).to.be.greaterThan(median(known) * 0.4);
    for (let i = 0; i < 6; i++) await api("POST", "/1.0/auth/login", { form: { email, password: "wrong-pw" } });
    const throttled = await api("POST", "/1.0/auth/login", { form: { email, password: "s3cret-pw" } });
    expect(throttled.status).to.equal(429);
    expect(throttled.text).to.match(/Too many failed login attempts/);
  });

  it("keeps credentials out of every listable object and out of the logs", async () => {
    const kinds = ["apps.berth.dev", "releases.berth.dev", "users.berth.dev", "tokens.berth.dev", "teams.berth.dev", "pools.berth.dev", "configmaps", "deployments", "events", "jobs"];
    const dump = await kubectl("get", kinds.join(","), "-A", "-o", "json");
    const log = logs.join("");
    const leaks = secrets.filter((s) => dump.includes(s) || log.includes(s));
    expect(leaks).to.deep.equal([]);
    expect(secrets.length).to.be.greaterThan(20);
  });
});
