// Two sweeps over every documented tsuru and Deis route, against the real API server:
// - authorization matrix: team B calls every route that names an app with team A's app, with
//   a body that would change it; nothing answers 2xx, nothing shows A's values, A's app is
//   unchanged afterwards;
// - bounded fuzz: random parameters, random bodies (wrong types, deep nesting, huge values),
//   as a plain user; 0 answers of 500 (501 is the documented "not offered"), the process
//   stays healthy. The seed is printed so that a failure can be replayed (BERTH_FUZZ_SEED).
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { documentedEndpoints } from "../../../src/api/coverage.ts";
import { userObjectName } from "../../../src/api/identity/store.ts";
import type { App } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { call } from "../support/http.ts";

const tsv = `${process.env.BERTH_ROOT ?? process.cwd()}/../shared/api-reference/endpoints.tsv`;
const id = randomBytes(3).toString("hex");
const SECRET = `a-secret-${id}`;

/** Routes that legitimately stream for long (rollouts, one-off runs, log follow). */
const SLOW = /\/(deploy|rollback|run|units|env|restart|start|stop|sleep|log|logs|build|scale|containers|config|builds|releases)\b/;

/** Routes that end the caller's own account or session: fuzzing them would end the sweep. */
const SELF_DESTRUCT = new Set(["DELETE /users", "DELETE /users/tokens", "DELETE /v1/auth/cancel/", "POST /v1/auth/tokens/"]);

/** mulberry32: a small seeded generator, so a failing sweep can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("security sweeps over every documented route", function () {
  this.timeout(600_000);
  let berth: RunningBerth;
  let base = "";
  let tokenA = "";
  let tokenB = "";
  const [teamA, teamB, pool, appA, appB] = [`fa-${id}`, `fb-${id}`, `fpool-${id}`, `fapp-a-${id}`, `fapp-b-${id}`];

  const user = async (email: string, admin = false) => {
    expect((await call(base, "POST", "/1.0/users", { form: { email, password: "fuzz-pw-1" } })).status).to.equal(201);
    if (admin) await berth.client.mergePatch(BerthTypes.User, undefined, userObjectName(email), { spec: { admin: true } });
    await new Promise((r) => setTimeout(r, 200));
    return (await call(base, "POST", "/1.0/auth/login", { form: { email, password: "fuzz-pw-1" } })).json<{ token: string }>().token;
  };
  const specOf = async (name: string) => JSON.stringify((await berth.client.list<App>(BerthTypes.App)).items.find((a) => a.metadata.name === name)?.spec);

  before(async function () {
    if (!existsSync(tsv)) this.skip(); // ../shared/ is beside the project in CI and development
    berth = await startBerth({ api: true });
    base = berth.apiURL;
    const admin = await user(`fadmin-${id}@example.com`, true);
    tokenA = await user(`fa-${id}@example.com`);
    tokenB = await user(`fb-${id}@example.com`);
    expect((await call(base, "POST", "/1.0/pools", { token: admin, form: { name: pool, public: "true" } })).status).to.equal(201);
    expect((await call(base, "POST", "/1.0/teams", { token: tokenA, form: { name: teamA } })).status).to.equal(201);
    expect((await call(base, "POST", "/1.0/teams", { token: tokenB, form: { name: teamB } })).status).to.equal(201);
    expect((await call(base, "POST", "/1.0/apps", { token: tokenA, form: { name: appA, teamOwner: teamA, pool } })).status).to.equal(201);
    expect((await call(base, "POST", "/1.0/apps", { token: tokenB, form: { name: appB, teamOwner: teamB, pool } })).status).to.equal(201);
    const env = await call(base, "POST", `/1.0/apps/${appA}/env`, { token: tokenA, form: { "Envs.0.Name": "A_SECRET", "Envs.0.Value": SECRET } });
    expect(env.status).to.equal(200);
  });
  after(async () => {
    await berth?.stop();
  });

  const routes = () => [
    ...documentedEndpoints(tsv, "tsuru").map((e) => ({ ...e, api: "tsuru" })),
    ...documentedEndpoints(tsv, "deis").map((e) => ({ ...e, api: "deis" })),
    ...documentedEndpoints(tsv, "cluster").map((e) => ({ ...e, api: "cluster" })),
  ];
  const url = (api: string, path: string) => (api === "tsuru" ? `/1.0${path}` : path);

  it("authorization matrix: team B gets no 2xx and sees nothing on any route naming team A's app", async () => {
    const before = await specOf(appA);
    const leaks: string[] = [];
    let checked = 0;
    for (const e of routes()) {
      const namesApp = /\{(app|appname|job_id)\}/.test(e.path) || /^\/apps\/\{name\}/.test(e.path) || /^\/v1\/apps\/\{id\}/.test(e.path) || e.path === "/v1/jobs/updatecounts";
      if (!namesApp) continue;
      const path = e.path
        .replace(/\{(app|appname|job_id)\}/g, appA)
        .replace(/^\/apps\/\{name\}/, `/apps/${appA}`)
        .replace(/^\/v1\/apps\/\{id\}/, `/v1/apps/${appA}`)
        .replace(/\{team\}/g, teamB)
        .replace(/\{[^}]+\}/g, "x1");
      const method = e.method === "*" ? "GET" : e.method;
      const o =
        e.api === "tsuru"
          ? { token: tokenB, form: { "Envs.0.Name": "PWNED", "Envs.0.Value": "x", cname: `evil-${id}.example.com`, units: "1", process: "web", image: "evil:1", teamOwner: teamB } }
          : e.api === "cluster"
            ? { token: tokenB, json: { jobID: appA, taskGroup: "web", count: 1 } }
            : { token: tokenB, scheme: "token", json: { values: { PWNED: "x" }, web: 1, image: "evil:1", domain: `evil-${id}.example.com`, username: `fb-${id}`, command: "id" } };
      const r = await call(base, method, url(e.api, path), { ...o, ...(method === "GET" || method === "DELETE" ? { form: undefined, json: undefined } : {}) });
      checked++;
      if ((r.status >= 200 && r.status < 300) || r.text.includes(SECRET)) leaks.push(`${method} ${path}: ${r.status} ${r.text.slice(0, 120)}`);
    }
    process.stdout.write(`      ${checked} app routes checked as another team\n`);
    expect(checked).to.be.greaterThan(40);
    expect(leaks).to.deep.equal([]);
    expect(await specOf(appA)).to.equal(before);
  });

  it("bounded fuzz: no 500 and no hang on any route, whatever the parameters and bodies", async () => {
    const seed = Number(process.env.BERTH_FUZZ_SEED ?? Date.now() % 1_000_000);
    const r = rng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
    const junk = () => pick([appB, appA, "x", "a".repeat(300), "é漢字", "..", "%00", "-", "0", "null", `${id}-${Math.floor(r() * 1e6)}`]);
    const value = (depth: number): unknown => {
      const k = r();
      if (depth > 0 && k < 0.15) return [value(depth - 1), value(depth - 1)];
      if (depth > 0 && k < 0.3) return { [pick(["name", "email", "value", "x"])]: value(depth - 1) };
      return pick([null, true, 0, -1, 1e308, "", "x", "y".repeat(100_000), { a: 1 }, [], ["a"]]);
    };
    const deep = (n: number): unknown => (n === 0 ? "x" : [deep(n - 1)]);
    const keys = ["name", "email", "password", "teamOwner", "pool", "plan", "units", "process", "image", "envs", "Envs.0.Name", "Envs.0.Value", "cname", "values", "domain", "username", "team", "description", "expires_in", "minUnits", "maxUnits", "averageCPU", "command", "web", "key", "public"];
    const failures: string[] = [];
    const counts = new Map<number, number>();
    let sent = 0;
    for (const e of routes().filter((x) => !SELF_DESTRUCT.has(`${x.method} ${x.path}`))) {
      for (let i = 0; i < 3; i++) {
        const method = e.method === "*" ? "GET" : e.method;
        const path = e.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(junk()));
        const body: Record<string, unknown> = {};
        for (let k = 0; k < 1 + Math.floor(r() * 4); k++) body[pick(keys)] = value(3);
        const kind = r();
        const o =
          kind < 0.4
            ? { json: r() < 0.1 ? deep(70 + Math.floor(r() * 1000)) : body }
            : kind < 0.8
              ? { form: Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])) }
              : { raw: pick(["{", "[]", "null", '"x"', "\u0000", "{\"a\":"]), contentType: pick(["application/json", "application/x-www-form-urlencoded", "text/plain"]) };
        let status = 0;
        try {
          const res = await Promise.race([
            call(base, method, url(e.api, path), { token: tokenB, scheme: e.api === "deis" ? "token" : "bearer", ...o }),
            new Promise<never>((_, rej) => setTimeout(() => rej(new Error("timeout")), SLOW.test(e.path) ? 130_000 : 8000)),
          ]);
          status = res.status;
          if (status === 500 || (status > 501 && status !== 503) || res.text.includes(SECRET)) failures.push(`${method} ${path} ${o.json !== undefined ? "json" : o.form ? "form" : "raw"}: ${status} ${res.text.slice(0, 160)}`);
        } catch (err) {
          failures.push(`${method} ${path}: ${String(err)}`);
        }
        counts.set(status, (counts.get(status) ?? 0) + 1);
        sent++;
      }
    }
    process.stdout.write(`      seed ${seed}: ${sent} requests, answers ${JSON.stringify(Object.fromEntries(counts))}\n`);
    expect(failures).to.deep.equal([]);
    expect((await call(base, "GET", "/healthz")).status).to.equal(200);
  });
});
