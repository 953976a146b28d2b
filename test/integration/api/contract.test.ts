// Contract checks over every documented route of both dialects: anonymous calls get 401,
// calls about things that do not exist get a 4xx, malformed bodies get 400, and every error
// comes in the dialect's own shape — never a 500.
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { documentedEndpoints } from "../../../src/api/coverage.ts";
import { machineryPaths } from "../../../src/api/tsuru/machinery.ts";
import { userObjectName } from "../../../src/api/identity/store.ts";
import type { User } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";

const tsv = `${process.env.BERTH_ROOT ?? process.cwd()}/../shared/api-reference/endpoints.tsv`;
const PUBLIC_TSURU = new Set(["GET /auth/scheme", "POST /auth/login", "POST /users", "GET /healthcheck", "GET /info", "GET /", "POST /users/{email}/tokens"]);
const PUBLIC_DEIS = new Set(["POST /v1/auth/register/", "POST /v1/auth/login/"]);

describe("API contracts over every documented route", function () {
  this.timeout(180_000);
  let berth: RunningBerth;
  let token = "";
  const id = randomBytes(3).toString("hex");
  const fill = (path: string) => path.replace(/\{[^}]+\}/g, `nope-${id}`);

  before(async function () {
    if (!existsSync(tsv)) this.skip(); // ../shared/ is beside the project in CI and development
    berth = await startBerth({ api: true });
    const email = `contract-${id}@example.com`;
    await fetch(`${berth.apiURL}/1.0/users`, { method: "POST", body: new URLSearchParams({ email, password: "contract-pw" }) });
    await berth.client.mergePatch<User>(BerthTypes.User, undefined, userObjectName(email), { spec: { admin: true } });
    await new Promise((r) => setTimeout(r, 300));
    const login = await fetch(`${berth.apiURL}/1.0/auth/login`, { method: "POST", body: new URLSearchParams({ email, password: "contract-pw" }) });
    token = ((await login.json()) as { token: string }).token;
  });
  after(async () => {
    await berth?.stop();
  });

  it("tsuru: 401 without a token, a 4xx for unknown names, 501 for machinery, all text/plain", async () => {
    const machinery = new Set(machineryPaths.map((m) => `${m.method} ${m.path}`));
    const failures: string[] = [];
    let anonChecked = 0;
    let namedChecked = 0;
    for (const e of documentedEndpoints(tsv, "tsuru")) {
      const method = e.method === "*" ? "GET" : e.method;
      const url = `${berth.apiURL}/1.0${fill(e.path)}`;
      const key = `${e.method} ${e.path}`;
      const anon = await fetch(url, { method });
      anonChecked++;
      const expected = machinery.has(key) ? 501 : PUBLIC_TSURU.has(key) ? undefined : 401;
      if (expected && anon.status !== expected) failures.push(`${key} anonymous: ${anon.status}, wanted ${expected}`);
      if (anon.status >= 400 && !anon.headers.get("content-type")?.startsWith("text/plain")) failures.push(`${key}: error is ${anon.headers.get("content-type")}`);
      await anon.arrayBuffer();
      if (machinery.has(key) || e.path === "/" || e.path.includes("{") === false) continue;
      const authed = await fetch(url, { method, headers: { Authorization: `bearer ${token}`, "Content-Type": "application/x-www-form-urlencoded" }, body: method === "GET" ? undefined : "" });
      namedChecked++;
      if (authed.status >= 500 || (authed.status < 400 && !/\/(tokens|quota)$/.test(e.path))) failures.push(`${key} unknown names: ${authed.status}`);
      await authed.arrayBuffer();
    }
    expect(failures).to.deep.equal([]);
    expect(anonChecked).to.equal(209);
    expect(namedChecked).to.be.greaterThan(60);
  });

  it("tsuru: malformed or missing form fields are 400s", async () => {
    const post = (path: string, body: string, type = "application/x-www-form-urlencoded") =>
      fetch(`${berth.apiURL}/1.0${path}`, { method: "POST", headers: { Authorization: `bearer ${token}`, "Content-Type": type }, body });
    for (const [path, body] of [
      ["/apps", ""],
      ["/apps", "name=UPPER"],
      ["/teams", ""],
      ["/teams", "name=no spaces"],
      ["/pools", "name="],
      ["/plans", "name=Bad!"],
      ["/roles", "name=r&context=galaxy"],
      ["/tokens", ""],
    ]) {
      const r = await post(path!, body!);
      expect(r.status, `${path} ${body}`).to.equal(400);
      expect(r.headers.get("content-type"), path).to.match(/^text\/plain/);
    }
    const json = await post("/apps", "{not json", "application/json");
    expect(json.status).to.equal(400);
    expect(await json.text()).to.equal("the request body is not valid JSON\n");
  });

  it("Deis: 401 in DRF's shape without a token, 404 for unknown apps, 400 for malformed JSON", async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const e of documentedEndpoints(tsv, "deis")) {
      checked++;
      const key = `${e.method} ${e.path}`;
      const url = `${berth.apiURL}${fill(e.path)}`;
      const anon = await fetch(url, { method: e.method, headers: { "Content-Type": "application/json" }, body: e.method === "GET" ? undefined : "{}" });
      const body = (await anon.json().catch(() => ({}))) as Record<string, unknown>;
      if (PUBLIC_DEIS.has(key)) {
        if (anon.status !== 400) failures.push(`${key} empty body: ${anon.status}`);
      } else if (anon.status !== 401 || typeof body.detail !== "string") {
        failures.push(`${key} anonymous: ${anon.status} ${JSON.stringify(body)}`);
      }
      if (!e.path.includes("{app}")) continue;
      const authed = await fetch(url, { method: e.method, headers: { Authorization: `token ${token}`, "Content-Type": "application/json" }, body: e.method === "GET" ? undefined : "{}" });
      if (authed.status !== 404) failures.push(`${key} unknown app: ${authed.status}`);
      await authed.arrayBuffer();
    }
    expect(failures).to.deep.equal([]);
    expect(checked).to.equal(29);
    const bad = await fetch(`${berth.apiURL}/v1/apps/`, { method: "POST", headers: { Authorization: `token ${token}`, "Content-Type": "application/json" }, body: "{oops" });
    expect(bad.status).to.equal(400);
    expect(await bad.json()).to.deep.equal({ detail: "the request body is not valid JSON" });
  });
});
