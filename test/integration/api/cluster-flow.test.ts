// The cluster API against the test cluster: counts that change real pods, long polling on the
// informers' resourceVersions (1,000 waiters, API-server requests counted by Berth's client),
// validated settings that converge jobs, secrets delivered to jobs.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { register } from "prom-client";
import type { App, Pool } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import { WAIT_MS } from "../../../src/api/cluster/job-routes.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startClusterApi } from "../support/cluster-api.ts";
import type { Res } from "../support/http.ts";
import { call } from "../support/http.ts";
import { eventually, kubectl } from "../support/kube.ts";

interface Job {
  name: string;
  status: string;
  taskGroups: { name: string; count: number; countInit: number; countMax: number; summary: Record<string, number> }[];
}

describe("cluster-api flow: counts, long polling, settings, secrets", function () {
  this.timeout(240_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const [alice, bob, pool, job] = [`fa${id}`, `fb${id}`, `cfp-${id}`, `cfjob-${id}`];
  const ns = `pool-${pool}`;
  let tokens: Record<string, string> = {};
  const api = (method: string, path: string, as: string, json?: unknown): Promise<Res> => call(berth.apiURL, method, path, { token: tokens[as], ...(json !== undefined ? { json } : {}) });
  const jobOf = async (name = job) => (await api("GET", "/v1/jobs", alice)).json<Job[]>().find((j) => j.name === name);
  const group = async (g: string) => (await jobOf())?.taskGroups.find((x) => x.name === g);
  const runningPods = async (g: string) => (await kubectl("get", "pods", "-n", ns, "-l", `berth.dev/app=${job},berth.dev/process=${g}`, "--field-selector=status.phase=Running", "-o", "name")).split("\n").filter(Boolean).length;
  const waiters = async () => (await register.getSingleMetric("berth_cluster_api_long_polls")!.get()).values[0]?.value ?? 0;
  /** Until every task group runs what it counts, then a second more (nothing changing). */
  const settleQuiet = async () => {
    await eventually("the job settled", async () => (await jobOf())?.taskGroups.every((g) => g.summary.running === g.count && !g.summary.starting && !g.summary.queued && !g.summary.complete));
    await new Promise((r) => setTimeout(r, 1000));
  };
  const settings = (extra: Record<string, unknown> = {}) => ({
    jobs: [{ name: job, image: "nginx:1.27", taskGroups: [{ name: "web", countInit: 1, countMax: 5 }, { name: "worker", countInit: 1, countMax: 4 }], ...extra }],
  });

  before(async () => {
    ({ berth, tokens } = await startClusterApi(pool, [alice, bob]));
  });
  after(async () => {
    await berth.client.delete(BerthTypes.App, ns, job).catch(() => undefined);
    await berth.client.delete(BerthTypes.Pool, undefined, pool).catch(() => undefined);
    await berth?.stop();
  });

  it("settings errors name the failing path and rule (400)", async () => {
    const cases: [unknown, string, string][] = [
      [{ jobs: [{ name: job, image: "x", taskGroups: [{ name: "web", countMax: -1 }] }] }, "/jobs/0/taskGroups/0/countMax", "minimum"],
      [{ jobs: [{ name: job, image: "x", taskGroups: [{ name: "web", countInit: 6, countMax: 5 }] }] }, "/jobs/0/taskGroups/0/countInit", "countInit<=countMax"],
      [{ jobs: [{ name: job, image: "x", taskGroups: [] }] }, "/jobs/0/taskGroups", "minItems"],
      [{ jobz: [] }, "/", "additionalProperties"],
      [{ jobs: [{ name: "Bad_Name", image: "x", taskGroups: [{ name: "web" }] }] }, "/jobs/0/name", "pattern"],
      [{ logLevel: "loud" }, "/logLevel", "enum"],
      [{ jobs: [{ name: job, image: "x", secrets: ["nope"], taskGroups: [{ name: "web" }] }] }, "/jobs/0/secrets/0", "exists"],
    ];
    for (const [doc, path, rule] of cases) {
      const r = await api("POST", "/v1/settings", alice, doc);
      expect(r.status, JSON.stringify(doc)).to.equal(400);
      const body = r.json<{ error: string; errors: { path: string; rule: string }[] }>();
      expect(body.errors.some((e) => e.path === path && e.rule === rule), r.text).to.equal(true);
      expect(body.error).to.contain(path).and.to.contain(rule);
    }
  });

  it("posting settings converges a job of two task groups: Apps, processes and running pods", async () => {
    const r = await api("POST", "/v1/settings", alice, settings());
    expect(r.status, r.text).to.equal(200);
    const app = await berth.client.get<App>(BerthTypes.App, ns, job);
    expect(app.spec.processes.map((p) => [p.name, p.replicas])).to.deep.equal([["web", 1], ["worker", 1]]);
    await eventually("both task groups running", async () => {
      const j = await jobOf();
      return j?.status === "running" && j.taskGroups.every((g) => g.summary.running === 1) && j;
    });
    // Another team cannot take the name.
    const taken = await api("POST", "/v1/settings", bob, settings());
    expect(taken.status).to.equal(400);
    expect(taken.json<{ errors: { path: string; rule: string }[] }>().errors[0]).to.include({ path: "/jobs/0/name", rule: "available" });
  });

  it("updatecounts +2, -1 and 0 change the real pods; bounds and unknown names answer 400 and 404", async () => {
    const step = async (delta: number, want: number) => {
      const r = await api("POST", "/v1/jobs/updatecounts", alice, { jobID: job, taskGroup: "worker", count: delta });
      expect(r.status, r.text).to.equal(200);
      expect(r.json<Job>().taskGroups.find((g) => g.name === "worker")?.count).to.equal(want);
      await eventually(`${want} worker pods running`, async () => (await runningPods("worker")) === want && (await group("worker"))?.summary.running === want);
    };
    await step(2, 3);
    await step(-1, 2);
    await step(0, 0);
    const over = await api("POST", "/v1/jobs/updatecounts", alice, { jobID: job, taskGroup: "worker", count: 5 });
    expect(over.status).to.equal(400);
    expect(over.json<{ error: string }>().error).to.contain("countMax (4)");
    expect((await api("POST", "/v1/jobs/updatecounts", alice, { jobID: job, taskGroup: "worker", count: -1 })).status).to.equal(400);
    expect((await api("POST", "/v1/jobs/updatecounts", alice, { jobID: `nope-${id}`, taskGroup: "worker", count: 1 })).status).to.equal(404);
    expect((await api("POST", "/v1/jobs/updatecounts", alice, { jobID: job, taskGroup: "nope", count: 1 })).status).to.equal(404);
    expect((await api("POST", "/v1/jobs/updatecounts", alice, { jobID: job, taskGroup: "worker", count: "1" })).status).to.equal(400);
    expect((await api("POST", `/v1/jobs/start/nope-${id}`, alice)).status).to.equal(404);
  });

  it("a long poll started before a change answers within a second after it, with a new waitIndex", async function () {
    const first = await api("GET", "/v1/jobs", alice);
    const index = first.headers.get("waitIndex")!;
    let answered = 0;
    const polled = fetch(`${berth.apiURL}/v1/jobs`, { headers: { Authorization: `Bearer ${tokens[alice]}`, waitIndex: index } }).then(async (r) => {
      answered = Date.now();
      return { status: r.status, index: r.headers.get("waitIndex"), jobs: (await r.json()) as Job[] };
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(answered, "the poll waits while nothing changes").to.equal(0);
    const changed = Date.now();
    expect((await api("POST", "/v1/jobs/updatecounts", alice, { jobID: job, taskGroup: "worker", count: 1 })).status).to.equal(200);
    const res = await polled;
    const latency = answered - changed;
    // The figure goes into the test's title, which the reporter prints.
    this.test!.title += ` [wake latency ${latency} ms]`;
    expect(latency).to.be.below(1000);
    expect(res.status).to.equal(200);
    expect(BigInt(res.index!) > BigInt(index), `${res.index} after ${index}`).to.equal(true);
    expect(res.jobs.find((j) => j.name === job)?.taskGroups.find((g) => g.name === "worker")?.count).to.equal(1);
  });

  it("1,000 waiting clients cost no API-server request; cancelled clients free their waiters", async function () {
    // Quiet first: a change while the polls start would answer them at once (their index is old).
    const settle = settleQuiet;
    await settle();
    let requests = 0;
    berth.client.counter = { count: () => requests++ };
    try {
      // Any change in the caches answers the polls early (the index is shared): then they are set
      // up again, up to 3 times.
      let index = "";
      let aborts: AbortController[] = [];
      let woke: number[] = [];
      let counts: number[] = [];
      let polls: Promise<string | null>[] = [];
      for (let attempt = 1; ; attempt++) {
        index = (await api("GET", "/v1/jobs", alice)).headers.get("waitIndex")!;
        const [a, w, c]: [AbortController[], number[], number[]] = [[], [], []];
        [aborts, woke, counts] = [a, w, c];
        polls = Array.from({ length: 1000 }, () => {
          const ac = new AbortController();
          a.push(ac);
          return fetch(`${berth.apiURL}/v1/jobs`, { headers: { Authorization: `Bearer ${tokens[alice]}`, waitIndex: index }, signal: ac.signal }).then(async (r) => {
            w.push(Date.now());
            const jobs = (await r.json()) as Job[];
            c.push(jobs.find((j) => j.name === job)?.taskGroups.find((g) => g.name === "worker")?.count ?? -1);
            return r.headers.get("waitIndex");
          });
        });
        for (let i = 0; (await waiters()) < 1000 && w.length === 0; i++) {
          if (i > 600) throw new Error(`${await waiters()} waiting, ${w.length} answered`);
          await new Promise((r) => setTimeout(r, 100));
        }
        if (w.length === 0) break;
        for (const ac of a) ac.abort();
        await Promise.allSettled(polls);
        if (attempt >= 3) throw new Error(`the index moved while 1,000 polls started, ${attempt} times`);
        await settle();
      }
      requests = 0;
      await new Promise((r) => setTimeout(r, 3000));
      const idle = requests;
      const figures = [`1,000 waiters for 3 s: ${idle} API-server requests`];
      // No request per waiter: the few that may happen come from the controllers running in
      // this same process (reconciling other tests' objects), never from the 1,000 waiters.
      expect(idle, "requests while 1,000 clients wait").to.be.lessThan(10);
      requests = 0;
      const changed = Date.now();
      expect((await api("POST", "/v1/jobs/updatecounts", alice, { jobID: job, taskGroup: "worker", count: 1 })).status).to.equal(200);
      const indexes = await Promise.all(polls);
      const lat = woke.map((t) => t - changed).sort((a, b) => a - b);
      figures.push(`woken by one change: p50 ${lat[499]} ms, max ${lat[999]} ms, ${requests} API-server requests meanwhile (the write and its controllers)`);
      this.test!.title += ` [${figures.join("; ")}]`;
      // Every poll answered because of the change (with its new count), not at the server's timeout.
      expect(indexes.every((i) => i !== index)).to.equal(true);
      expect(counts.every((c) => c === 2), `counts seen: ${[...new Set(counts)].join(",")}`).to.equal(true);
      expect(lat[999]).to.be.below(WAIT_MS);

      // Cancelled clients: their waiters go at once. Any change in the caches answers the polls
      // early (the index is shared), so the 1,000 are set up again (up to 3 times) if one came.
      let aborted = false;
      for (let attempt = 1; !aborted; attempt++) {
        await settle();
        const index2 = (await api("GET", "/v1/jobs", alice)).headers.get("waitIndex")!;
        const cancel: AbortController[] = [];
        let answered = 0;
        const more = Array.from({ length: 1000 }, () => {
          const ac = new AbortController();
          cancel.push(ac);
          return fetch(`${berth.apiURL}/v1/jobs`, { headers: { Authorization: `Bearer ${tokens[alice]}`, waitIndex: index2 }, signal: ac.signal })
            .then(() => void answered++, () => undefined);
        });
        const all = await eventually("1,000 more waiters (or an early answer)", async () => (await waiters()) >= 1000 || answered > 0, 60_000, 100).then(() => answered === 0);
        for (const ac of cancel) ac.abort();
        await Promise.all(more);
        if (all) aborted = true;
        else if (attempt >= 3) throw new Error(`the index moved during each of ${attempt} attempts to hold 1,000 waiters`);
      }
      await eventually("waiters freed", async () => (await waiters()) === 0, 10_000, 50);
      void aborts;
    } finally {
      berth.client.counter = undefined;
    }
  });

  it("events results: the Kubernetes Events of the caller's jobs since its log started, from a counter; the log restarts after 5 s", async () => {
    const start = await api("GET", "/v1/events/results/0", alice);
    expect(start.json<{ counter: number }>().counter).to.equal(0);
    expect((await api("POST", "/v1/jobs/updatecounts", alice, { jobID: job, taskGroup: "worker", count: 1 })).status).to.equal(200);
    const seen = await eventually("events about the scaled task group", async () => {
      const r = (await api("GET", "/v1/events/results/0", alice)).json<{ counter: number; messages: string[] }>();
      return r.messages.some((m) => m.includes(`${job}-worker`)) && r;
    }, 30_000, 500);
    expect(seen.counter).to.equal(seen.messages.length);
    // From a position: only what came after it (events may still arrive meanwhile).
    const tail = (await api("GET", `/v1/events/results/${seen.counter}`, alice)).json<{ counter: number; messages: string[] }>();
    expect(tail.counter).to.be.at.least(seen.counter);
    expect(tail.messages).to.have.length(tail.counter - seen.counter);
    // Another team's log never shows them.
    const other = (await api("GET", "/v1/events/results/0", bob)).json<{ messages: string[] }>();
    expect(other.messages.some((m) => m.includes(job))).to.equal(false);
    await settleQuiet();
    await new Promise((r) => setTimeout(r, 5500));
    const restarted = (await api("GET", "/v1/events/results/0", alice)).json<{ counter: number }>();
    expect(restarted.counter).to.be.below(seen.counter);
  });

  it("log fs reads a line the task printed, with offsets (needs a real node: skipped on KWOK-only clusters, whose pods write no log)", async function () {
    const nodes = JSON.parse(await kubectl("get", "nodes", "-o", "json")) as { items: { metadata: { name: string; annotations?: Record<string, string> } }[] };
    const real = nodes.items.find((n) => n.metadata.annotations?.["kwok.x-k8s.io/node"] !== "fake");
    if (!real) this.skip();
    const realPool = `cfr-${id}`;
    const logJob = `cflog-${id}`;
    // The real node is tainted: only a pool that selects and tolerates it puts pods there.
    await berth.client.create<Pool>(BerthTypes.Pool, {
      metadata: { name: realPool },
      spec: { public: true, namespace: ns, nodeSelector: { "kubernetes.io/hostname": real!.metadata.name }, tolerations: [{ key: "berth.dev/real-node", operator: "Exists", effect: "NoSchedule" }] },
    });
    try {
      // Jobs land in the default pool: this job's App is moved to the real node's pool afterwards.
      // An image the local registry holds (hack/cluster.sh env exports BERTH_REGISTRY).
      const image = process.env.BERTH_LOG_TEST_IMAGE ?? `${process.env.BERTH_REGISTRY ?? "10.245.1.1:5000"}/berth/busybox:1.35`;
      expect((await api("POST", "/v1/settings", alice, { jobs: [settings().jobs[0], { name: logJob, image, taskGroups: [{ name: "main", command: ["sh", "-c", "echo hello-berth-log; sleep 3600"], countInit: 1 }] }] })).status).to.equal(200);
      await berth.client.mergePatch(BerthTypes.App, ns, logJob, { spec: { pool: realPool } });
      const text = await eventually("the printed line", async () => {
        const pods = (await kubectl("get", "pods", "-n", ns, "-l", `berth.dev/app=${logJob}`, "--field-selector=status.phase=Running", "-o", "jsonpath={.items[*].metadata.name}")).split(" ").filter(Boolean);
        if (!pods[0]) return false;
        const r = await api("GET", `/v1/log/fs/${pods[0]}/main/stdout?origin=start&offset=6`, alice);
        return r.text.includes("berth-log") && { pod: pods[0], text: r.text };
      }, 120_000, 1000);
      expect(text.text.startsWith("berth-log")).to.equal(true);
      const end = await api("GET", `/v1/log/fs/${text.pod}/main/stderr?origin=end&offset=4`, alice);
      expect(end.text).to.equal("log\n");
    } finally {
      await api("POST", "/v1/settings", alice, settings());
      await berth.client.delete(BerthTypes.Pool, undefined, realPool).catch(() => undefined);
    }
  });

  it("a secret named in the settings becomes the job's private environment", async () => {
    expect((await api("POST", `/secrets/secret/db-${id}`, alice, { DB_PASSWORD: "hunter2" })).status).to.equal(200);
    expect((await api("POST", "/v1/settings", alice, settings({ secrets: [`db-${id}`] }))).status).to.equal(200);
    const app = await berth.client.get<App>(BerthTypes.App, ns, job);
    expect(app.spec.privateEnvSecret).to.be.a("string");
    const secret = await berth.client.get<{ metadata: { name: string }; data: Record<string, string> }>({ group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true }, ns, app.spec.privateEnvSecret!);
    expect(Buffer.from(secret.data.DB_PASSWORD ?? "", "base64").toString()).to.equal("hunter2");
    // The stored Secret is labelled and owned by the team.
    const stored = JSON.parse(await kubectl("get", "secrets", "-n", "berth-system", "-l", `berth.dev/team=user-${alice}`, "-o", "json")) as { items: { metadata: { ownerReferences?: { kind: string; name: string }[] } }[] };
    expect(stored.items).to.have.length(1);
    expect(stored.items[0]!.metadata.ownerReferences?.[0]).to.include({ kind: "Team", name: `user-${alice}` });
  });

  it("logger levels reach the job's pods: a mounted ConfigMap with the allocation's and the default levels", async () => {
    const alloc = await eventually("a running web allocation", async () => {
      const pods = (await kubectl("get", "pods", "-n", ns, "-l", `berth.dev/app=${job},berth.dev/process=web`, "--field-selector=status.phase=Running", "-o", "jsonpath={.items[*].metadata.name}")).split(" ").filter(Boolean);
      return pods.length === 1 && pods[0];
    });
    expect((await api("POST", "/v1/log/defaults/engine", alice, { leaf: "warning" })).status).to.equal(200);
    const set = await api("POST", `/v1/log/allocs/${alloc}/engine`, alice, { leaf: "debug" });
    expect(set.status, set.text).to.equal(200);
    const data = JSON.parse(await kubectl("get", "configmap", `${job}-loggers`, "-n", ns, "-o", "jsonpath={.data}")) as Record<string, string>;
    expect(data).to.deep.include({ [`${alloc}_engine_leaf`]: "debug", default_engine_leaf: "warning" });
    // The pod template mounts it (optional, so pods start before any level is set) and names the allocation.
    const template = JSON.parse(await kubectl("get", "deployment", `${job}-web`, "-n", ns, "-o", "jsonpath={.spec.template.spec}")) as { volumes?: { configMap?: { name: string } }[]; containers: { volumeMounts?: { mountPath: string }[]; env?: { name: string }[] }[] };
    expect(template.volumes?.[0]?.configMap?.name).to.equal(`${job}-loggers`);
    expect(template.containers[0]?.volumeMounts?.[0]?.mountPath).to.equal("/etc/berth/loggers");
    expect(template.containers[0]?.env?.map((e) => e.name)).to.include("BERTH_ALLOC");
  });

  it("settings without the job remove it", async () => {
    expect((await api("POST", "/v1/settings", alice, { jobs: [] })).status).to.equal(200);
    await eventually("the job gone", async () => !(await jobOf()));
    expect(await berth.client.getOrUndefined(BerthTypes.App, ns, job)).to.equal(undefined);
  });
});
