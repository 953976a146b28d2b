// Golden wire tests for the cluster API: every expected path, field name, status code and
// header comes from the API reference (shared/api-reference/003_a91f785052f1ff64.txt, quoted
// next to each check), never from Berth's own output. Where the document says nothing (error
// bodies, status codes of writes), Berth's choices are pinned in cluster-api flow and named
// in docs/api/cluster-notes.md.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startClusterApi } from "../support/cluster-api.ts";
import type { Res } from "../support/http.ts";
import { call } from "../support/http.ts";
import { eventually } from "../support/kube.ts";

describe("cluster-api wire (golden, api-reference 003)", function () {
  this.timeout(180_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const [alice, bob, pool, job] = [`ca${id}`, `cb${id}`, `cwp-${id}`, `cwjob-${id}`];
  let tokens: Record<string, string> = {};
  const api = (method: string, path: string, as: string | undefined, json?: unknown): Promise<Res> => call(berth.apiURL, method, path, { ...(as ? { token: tokens[as] } : {}), ...(json !== undefined ? { json } : {}) });

  before(async () => {
    ({ berth, tokens } = await startClusterApi(pool, [alice, bob]));
  });
  after(async () => {
    await berth.client.delete(BerthTypes.App, `pool-${pool}`, job).catch(() => undefined);
    await berth.client.delete(BerthTypes.Pool, undefined, pool).catch(() => undefined);
    await berth?.stop();
  });

  it("GET /v1/schemas/settings.json: the JSON schema that validates the settings", async () => {
    // "GET /v1/schemas/settings.json — Get the settings JSON schemas. This schema is used to validate the settings."
    const r = await api("GET", "/v1/schemas/settings.json", alice);
    expect(r.status).to.equal(200);
    const schema = r.json<Record<string, unknown>>();
    expect(schema).to.have.property("$schema");
    expect(schema).to.have.property("type", "object");
  });

  it("GET /v1/settings/default and GET /v1/settings: the settings in JSON format", async () => {
    // "GET /v1/settings/default — Get the default settings"; "GET /v1/settings — Get the settings in JSON format"
    const d = await api("GET", "/v1/settings/default", alice);
    expect(d.status).to.equal(200);
    expect(d.headers.get("content-type")).to.match(/^application\/json/);
    const s = await api("GET", "/v1/settings", alice);
    expect(s.status).to.equal(200);
    expect(s.json()).to.deep.equal(d.json());
  });

  it("POST /v1/settings: validates; missing values are replaced by the default values", async () => {
    // "POST /v1/settings — Validate and set the settings. Any missing values is replaced by the default values."
    const bad = await api("POST", "/v1/settings", alice, { jobs: [{ name: job, image: "nginx:1.27", taskGroups: [{ name: "web", countMax: -1 }] }] });
    expect(bad.status).to.equal(400);
    const post = await api("POST", "/v1/settings", alice, { jobs: [{ name: job, image: "nginx:1.27", taskGroups: [{ name: "web", countInit: 1, countMax: 5 }, { name: "worker", countMax: 3 }] }] });
    expect(post.status, post.text).to.equal(200);
    const settings = (await api("GET", "/v1/settings", alice)).json<{ jobs: { taskGroups: Record<string, unknown>[] }[] }>();
    // The worker's countInit was missing: the default value is filled in.
    const defaults = (await api("GET", "/v1/schemas/settings.json", alice)).json<{ properties: { jobs: { items: { properties: { taskGroups: { items: { properties: { countInit: { default: number } } } } } } } } }>();
    expect(settings.jobs[0]?.taskGroups[1]).to.have.property("countInit", defaults.properties.jobs.items.properties.taskGroups.items.properties.countInit.default);
  });

  it("GET /v1/jobs: the documented shape, and the waitIndex response header", async () => {
    // Example response: [{"name","status","taskGroups":[{"name","count","countInit","countMax","summary":{"queued","complete","failed","running","starting","lost"}}]}]
    // "Response Headers: waitIndex – Used for long polling"
    const r = await eventually("the job listed", async () => {
      const x = await api("GET", "/v1/jobs", alice);
      return x.json<{ name: string }[]>().some((j) => j.name === job) && x;
    });
    expect(r.status).to.equal(200);
    expect(r.headers.get("waitIndex")).to.match(/^\d+$/);
    const j = r.json<Record<string, unknown>[]>().find((x) => x.name === job)!;
    expect(Object.keys(j).sort()).to.deep.equal(["name", "status", "taskGroups"]);
    expect(j.status).to.be.a("string");
    const groups = j.taskGroups as Record<string, unknown>[];
    expect(groups.map((g) => g.name)).to.deep.equal(["web", "worker"]);
    for (const g of groups) {
      expect(Object.keys(g).sort()).to.deep.equal(["count", "countInit", "countMax", "name", "summary"]);
      expect(Object.keys(g.summary as object).sort()).to.deep.equal(["complete", "failed", "lost", "queued", "running", "starting"]);
      for (const v of [g.count, g.countInit, g.countMax, ...Object.values(g.summary as object)]) expect(v).to.be.a("number");
    }
    expect(groups[0]).to.include({ countInit: 1, countMax: 5 });
  });

  it("POST /v1/jobs/updatecounts: {jobID, taskGroup, count} as a delta; 0 stops the task group", async () => {
    // "Request JSON Object: jobID (string) – The job ID; taskGroup (string) – The task group id; count (int) – The count delta. 0 will stop the task group."
    const up = await api("POST", "/v1/jobs/updatecounts", alice, { jobID: job, taskGroup: "worker", count: 2 });
    expect(up.status, up.text).to.equal(200);
    const count = async () => (await api("GET", "/v1/jobs", alice)).json<{ name: string; taskGroups: { name: string; count: number }[] }[]>().find((x) => x.name === job)!.taskGroups.find((g) => g.name === "worker")!.count;
    expect(await count()).to.equal(3);
    expect((await api("POST", "/v1/jobs/updatecounts", alice, { jobID: job, taskGroup: "worker", count: -1 })).status).to.equal(200);
    expect(await count()).to.equal(2);
    expect((await api("POST", "/v1/jobs/updatecounts", alice, { jobID: job, taskGroup: "worker", count: 0 })).status).to.equal(200);
    expect(await count()).to.equal(0);
  });

  it("POST /v1/jobs/stop/(job_id) and POST /v1/jobs/start/(job_id)", async () => {
    // "POST /v1/jobs/stop/(job_id) — Stop a job."; "POST /v1/jobs/start/(job_id) — Start a job."
    expect((await api("POST", `/v1/jobs/stop/${job}`, alice)).status).to.equal(200);
    expect((await api("POST", `/v1/jobs/start/${job}`, alice)).status).to.equal(200);
  });

  const logDef = { id: `log-${id}`, group: "web", job, task: "web", fileName: "stdout", logLevel: true };
  it("GET/POST /v1/log/logs: id, group, job, task, fileName, logLevel (boolean)", async () => {
    // "Request JSON Array of Objects: id, group, job, task, fileName (string), logLevel (boolean)"
    expect((await api("POST", "/v1/log/logs", alice, [logDef])).status).to.equal(200);
    const r = await api("GET", "/v1/log/logs", alice);
    expect(r.status).to.equal(200);
    expect(r.json()).to.deep.equal([logDef]);
  });

  let allocID = "";
  it("GET /v1/log/meta/(name): allocID, status, jobName, taskName, fileName, createTime, logLevel (string)", async () => {
    const metas = await eventually("an allocation", async () => {
      // One running allocation, the old ones gone (the stop and start above replaced them).
      const x = (await api("GET", `/v1/log/meta/${logDef.id}`, alice)).json<Record<string, unknown>[]>();
      return x.length === 1 && x[0]!.status === "running" && x;
    });
    for (const m of metas) {
      expect(Object.keys(m).sort()).to.deep.equal(["allocID", "createTime", "fileName", "jobName", "logLevel", "status", "taskName"]);
      for (const v of Object.values(m)) expect(v).to.be.a("string");
      expect(m).to.include({ jobName: job, taskName: "web", fileName: "stdout" });
    }
    allocID = String(metas.find((m) => m.status === "running")!.allocID);
  });

  it("GET /v1/log/fs/(alloc)/(task)/(fs): stdout or stderr, origin start or end, offset", async () => {
    // "fs – The file system id. Either stdout or stderr"; "origin – start or end"; "offset – The offset from the origin"
    for (const fs of ["stdout", "stderr"]) {
      const r = await api("GET", `/v1/log/fs/${allocID}/web/${fs}?origin=end&offset=10`, alice);
      expect(r.status, r.text).to.equal(200);
    }
    expect((await api("GET", `/v1/log/fs/${allocID}/web/stdin`, alice)).status).to.equal(400);
  });

  it("GET /v1/log/defaults, POST /v1/log/defaults/(loggerID) with {\"leaf\": \"info\"}", async () => {
    expect((await api("POST", "/v1/log/defaults/engine", alice, { leaf: "info" })).status).to.equal(200);
    const r = await api("GET", "/v1/log/defaults", alice);
    expect(r.status).to.equal(200);
    expect(r.json()).to.deep.equal({ engine: { leaf: "info" } });
    // "The log level can be debug, info, warning, error, fatal or panic."
    expect((await api("POST", "/v1/log/defaults/engine", alice, { leaf: "verbose" })).status).to.equal(400);
  });

  it("GET /v1/log/allocs/(allocID): an empty value means the default; POST /v1/log/allocs/(allocID)/(loggerID) with {\"leaf\": \"debug\"}", async () => {
    // The allocation read before may have been replaced since (the job's rollout after start):
    // take the current one.
    const current = async () =>
      eventually("one running allocation", async () => {
        const x = (await api("GET", `/v1/log/meta/${logDef.id}`, alice)).json<{ allocID: string; status: string }[]>();
        return x.length === 1 && x[0]!.status === "running" && x[0]!.allocID;
      });
    allocID = await current();
    const before = await api("GET", `/v1/log/allocs/${allocID}`, alice);
    expect(before.status, before.text).to.equal(200);
    expect(before.json()).to.deep.equal({ engine: { leaf: "" } });
    const set = await api("POST", `/v1/log/allocs/${allocID}/engine`, alice, { leaf: "debug" });
    expect(set.status, set.text).to.equal(200);
    expect((await api("GET", `/v1/log/allocs/${allocID}`, alice)).json()).to.deep.equal({ engine: { leaf: "debug" } });
  });

  it("GET/POST /v1/events: errors (string) and mapreduce (array)", async () => {
    const mapreduce = [{ id: "viewers", sources: ["web"], reduce: "count" }];
    expect((await api("POST", "/v1/events", alice, { mapreduce })).status).to.equal(200);
    const r = await api("GET", "/v1/events", alice);
    expect(r.status).to.equal(200);
    const body = r.json<{ errors: unknown; mapreduce: unknown }>();
    expect(body.errors).to.be.a("string");
    expect(body.mapreduce).to.deep.equal(mapreduce);
  });

  it("GET /v1/events/results/(counter:[0-9]+): {counter, messages}", async () => {
    const r = await api("GET", "/v1/events/results/0", alice);
    expect(r.status).to.equal(200);
    const body = r.json<{ counter: unknown; messages: unknown }>();
    expect(Object.keys(body).sort()).to.deep.equal(["counter", "messages"]);
    expect(body.counter).to.be.a("number");
    expect(body.messages).to.be.an("array");
    // The route takes [0-9]+ only.
    expect((await api("GET", "/v1/events/results/abc", alice)).status).to.equal(404);
  });

  it("secrets: GET /v1/secrets/list {keys}, GET/POST/DELETE /secrets/secret/(ID) (no /v1)", async () => {
    const doc = { GENVID_COMMAND_SECRET: "anothersecret", akey: "avalue" };
    expect((await api("POST", "/secrets/secret/command", alice, doc)).status).to.equal(200);
    expect((await api("POST", "/secrets/secret/disco", alice, { k: "v" })).status).to.equal(200);
    const got = await api("GET", "/secrets/secret/command", alice);
    expect(got.status).to.equal(200);
    expect(got.json()).to.deep.equal(doc);
    const list = await api("GET", "/v1/secrets/list", alice);
    expect(list.json()).to.deep.equal({ keys: ["command", "disco"] });
    expect((await api("DELETE", "/secrets/secret/disco", alice)).status).to.equal(200);
    expect((await api("GET", "/secrets/secret/disco", alice)).status).to.equal(404);
    expect((await api("GET", "/v1/secrets/list", alice)).json()).to.deep.equal({ keys: ["command"] });
  });

  it("serves no path without a valid token, and shows one team nothing of another's", async () => {
    expect((await api("GET", "/v1/jobs", undefined)).status).to.equal(401);
    expect((await api("GET", "/v1/jobs", bob)).json<{ name: string }[]>().map((j) => j.name)).to.not.include(job);
    expect((await api("POST", "/v1/jobs/updatecounts", bob, { jobID: job, taskGroup: "web", count: 1 })).status).to.equal(404);
    expect((await api("POST", `/v1/jobs/stop/${job}`, bob)).status).to.equal(404);
    expect((await api("GET", "/secrets/secret/command", bob)).status).to.equal(404);
    expect((await api("GET", "/v1/secrets/list", bob)).json()).to.deep.equal({ keys: [] });
    expect((await api("GET", `/v1/log/allocs/${allocID}`, bob)).status).to.equal(404);
    expect((await api("GET", "/v1/log/logs", bob)).json()).to.deep.equal([]);
  });
});
