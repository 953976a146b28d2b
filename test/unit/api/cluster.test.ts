import { existsSync } from "node:fs";
import { expect } from "chai";
import type { ApiDeps } from "../../../src/api/deps.ts";
import { buildServer } from "../../../src/api/server.ts";
import { documentedEndpoints } from "../../../src/api/coverage.ts";
import { clusterDialect } from "../../../src/api/cluster/dialect.ts";
import { deisDialect } from "../../../src/api/deis/dialect.ts";
import { tsuruDialect } from "../../../src/api/tsuru/dialect.ts";
import { jobView, podState, summarize } from "../../../src/api/cluster/job-routes.ts";
import { aboutOneOf } from "../../../src/api/cluster/event-routes.ts";
import { defaultSettings, settingsSchema, validateSettings } from "../../../src/model/cluster-settings.ts";
import { defaultLoggerKeys, jobProcesses, secretObjectName, teamSecretValues } from "../../../src/model/cluster-settings.ts";
import { jobPool } from "../../../src/reconcilers/cluster-settings.ts";
import type { Pod } from "../../../src/api/cluster/store.ts";
import type { App, Pool } from "../../../src/model/kinds.ts";
import { silentLogger } from "../../../src/log.ts";

const tsv = new URL("../../../../shared/api-reference/endpoints.tsv", import.meta.url).pathname;
const pod = (phase: string | undefined, o: { node?: string; ready?: boolean; deleting?: boolean; reason?: string; process?: string } = {}): Pod => ({
  metadata: { name: "p", labels: { "berth.dev/process": o.process ?? "web" }, ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
  spec: { ...(o.node ? { nodeName: o.node } : {}) },
  status: { ...(phase ? { phase } : {}), ...(o.reason ? { reason: o.reason } : {}), conditions: [{ type: "Ready", status: o.ready ? "True" : "False" }] },
});

describe("cluster-api dialect (unit)", () => {
  it("routes: no cluster API path is a Deis v1 route, and each is served by the cluster dialect", async function () {
    if (!existsSync(tsv)) this.skip();
    const concrete = (path: string) => path.replace(/\{counter\}/, "0").replace(/\{[^}]+\}/g, "x1");
    const routesOf = async (dialects: (typeof clusterDialect)[]) => {
      const server = buildServer<ApiDeps>({ log: silentLogger(), deps: {} as ApiDeps, dialects });
      const routes = new Set<string>();
      server.addHook("onRoute", (r) => {
        for (const m of [r.method].flat()) routes.add(`${m} ${r.url}`);
      });
      await server.ready();
      return { server, routes };
    };
    const deisOnly = await routesOf([deisDialect]);
    const clusterOnly = await routesOf([clusterDialect]);
    // Fastify refuses a route registered twice: all three dialects together start.
    const all = await routesOf([tsuruDialect, deisDialect, clusterDialect]);
    expect([...clusterOnly.routes].filter((r) => deisOnly.routes.has(r))).to.deep.equal([]);
    const endpoints = documentedEndpoints(tsv, "cluster");
    expect(endpoints).to.have.length(23);
    for (const e of endpoints) {
      // Deis alone answers its own 404: no Deis route (parametric ones included) matches the cluster API's URL.
      const r = await deisOnly.server.inject({ method: e.method as "GET", url: concrete(e.path) });
      expect(r.statusCode, `${e.method} ${e.path}`).to.equal(404);
      // Deis' own not-found answer under /v1, Fastify's default one elsewhere (/secrets/...).
      const body = r.json<{ detail?: string; message?: string }>();
      expect(body.detail ?? body.message, r.body).to.match(/^no such endpoint|^Route .* not found$/);
      const url = e.path.replace(/\{([^}]+)\}/g, ":$1");
      expect(clusterOnly.routes.has(`${e.method} ${url}`), `${e.method} ${url}`).to.equal(true);
      expect(clusterOnly.routes.has(`${e.method} /cluster${url}`), `${e.method} /cluster${url}`).to.equal(true);
      expect(all.routes.has(`${e.method} ${url}`), `${e.method} ${url}`).to.equal(true);
    }
    for (const x of [deisOnly, clusterOnly, all]) await x.server.close();
  });

  it("settings: defaults are filled in", () => {
    expect(defaultSettings()).to.deep.equal({ jobs: [], logLevel: "info" });
    const r = validateSettings({ jobs: [{ name: "web", image: "nginx", taskGroups: [{ name: "a" }] }] });
    expect(r.errors).to.deep.equal([]);
    expect(r.settings?.jobs[0]).to.deep.equal({ name: "web", image: "nginx", env: {}, secrets: [], taskGroups: [{ name: "a", command: [], countInit: 1, countMax: 5 }] });
  });

  it("settings: errors name the path and the rule", () => {
    const errs = (doc: unknown) => validateSettings(doc).errors.map((e) => `${e.path} ${e.rule}`);
    expect(errs({ jobs: [{ name: "w", image: "i", taskGroups: [{ name: "a", countMax: 1001 }] }] })).to.deep.equal(["/jobs/0/taskGroups/0/countMax maximum"]);
    expect(errs({ jobs: [{ name: "w", image: "i", taskGroups: [{ name: "a", countInit: 3, countMax: 2 }] }] })).to.deep.equal(["/jobs/0/taskGroups/0/countInit countInit<=countMax"]);
    expect(errs({ jobs: [{ name: "w", taskGroups: [{ name: "a" }] }] })).to.deep.equal(["/jobs/0 required"]);
    expect(errs({ jobs: [{ name: "w", image: "i", taskGroups: [{ name: "a" }, { name: "a" }] }] })).to.deep.equal(["/jobs/0/taskGroups/1/name uniqueName"]);
    expect(errs([])).to.deep.equal(["/ type"]);
    expect(errs({ extra: 1 })).to.deep.equal(["/ additionalProperties"]);
    // The published schema is the one that validates.
    expect(settingsSchema.$id).to.equal("settings.json");
  });

  it("task groups keep their counts across settings, clamped to countMax; new ones start at countInit", () => {
    const job = { name: "j", image: "i", env: {}, secrets: [], taskGroups: [{ name: "a", command: [], countInit: 1, countMax: 2 }, { name: "b", command: ["run"], countInit: 3, countMax: 5 }] };
    expect(jobProcesses(job, [{ name: "a", replicas: 4 }])).to.deep.equal([{ name: "a", replicas: 2 }, { name: "b", replicas: 3, command: ["run"] }]);
  });

  it("default logger levels become loggers ConfigMap keys; a team's secret is read only from its own Secret", () => {
    expect(defaultLoggerKeys({ engine: { leaf: "debug", net: "info" }, db: { q: "error" } })).to.deep.equal({ default_engine_leaf: "debug", default_engine_net: "info", default_db_q: "error" });
    expect(defaultLoggerKeys(undefined)).to.deep.equal({});
    const secret = (team: string, id: string) => ({ metadata: { name: secretObjectName(team, id), labels: { "berth.dev/team": team }, annotations: { "berth.dev/secret-id": id } }, data: { K: Buffer.from("v").toString("base64") } });
    expect(teamSecretValues(secret("t", "db"), "t", "db")).to.deep.equal({ K: "v" });
    expect(teamSecretValues(secret("other", "db"), "t", "db")).to.equal(undefined);
    expect(teamSecretValues(secret("t", "db2"), "t", "db")).to.equal(undefined);
    expect(teamSecretValues(undefined, "t", "db")).to.equal(undefined);
  });

  it("new jobs go to the default pool, else a public one", () => {
    const pool = (name: string, spec: Pool["spec"]): Pool => ({ metadata: { name }, spec });
    expect(jobPool([pool("a", { public: true }), pool("b", { default: true })])?.metadata.name).to.equal("b");
    expect(jobPool([pool("a", {}), pool("c", { public: true })])?.metadata.name).to.equal("c");
    expect(jobPool([pool("a", {})])).to.equal(undefined);
  });

  it("summaries count pods by state", () => {
    expect(podState(pod("Pending"))).to.equal("queued");
    expect(podState(pod("Pending", { node: "n" }))).to.equal("starting");
    expect(podState(pod("Running", { node: "n" }))).to.equal("starting");
    expect(podState(pod("Running", { node: "n", ready: true }))).to.equal("running");
    expect(podState(pod("Running", { node: "n", ready: true, deleting: true }))).to.equal("complete");
    expect(podState(pod("Succeeded"))).to.equal("complete");
    expect(podState(pod("Failed"))).to.equal("failed");
    expect(podState(pod("Failed", { reason: "Evicted" }))).to.equal("lost");
    expect(podState(pod("Unknown"))).to.equal("lost");
    expect(summarize([pod("Pending"), pod("Running", { node: "n", ready: true }), pod("Running", { node: "n", ready: true })])).to.deep.equal({ queued: 1, complete: 0, failed: 0, running: 2, starting: 0, lost: 0 });
    const app = { metadata: { name: "j", annotations: { "berth.dev/cluster-counts": '{"web":{"countInit":2,"countMax":7}}' } }, spec: { image: "i", processes: [{ name: "web", replicas: 2 }], state: "Stopped" } } as App;
    expect(jobView(app, [pod("Running", { node: "n", ready: true })])).to.deep.equal({
      name: "j",
      status: "dead",
      taskGroups: [{ name: "web", count: 2, countInit: 2, countMax: 7, summary: { queued: 0, complete: 0, failed: 0, running: 1, starting: 0, lost: 0 } }],
    });
  });
});

describe("cluster-api events of the caller's apps", () => {
  const event = (name: string) => ({ metadata: { name: `${name}.1` }, involvedObject: { kind: "Pod", name, namespace: "ns" } });

  it("are those about an app or a child named <app>-...", () => {
    const apps = new Set(["web", "web-api"]);
    expect(aboutOneOf(event("web"), apps)).to.equal(true);
    expect(aboutOneOf(event("web-7d9f-abcde"), apps)).to.equal(true);
    expect(aboutOneOf(event("web-api-5c-x"), apps)).to.equal(true);
    expect(aboutOneOf(event("webapp-1"), apps)).to.equal(false);
    expect(aboutOneOf(event("other-web"), apps)).to.equal(false);
    expect(aboutOneOf(event("we"), apps)).to.equal(false);
    expect(aboutOneOf({ metadata: { name: "x" } }, apps)).to.equal(false);
  });
});
