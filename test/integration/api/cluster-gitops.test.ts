// The cluster API's settings applied with kubectl (GitOps): the ClusterSettings controller
// converges the team's jobs without any API call. Apply → Apps and Deployments with the counts;
// edit → converged; an invalid document → Ready=False naming the rule, jobs left as they were;
// a job left out → its App goes; the settings deleted → their jobs go (ownerReferences, GC).
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import type { App, ClusterSettings } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startClusterApi } from "../support/cluster-api.ts";
import { call } from "../support/http.ts";
import { eventually, kubectl, kubectlStdin } from "../support/kube.ts";

interface Job {
  name: string;
  taskGroups: { name: string; count: number; countInit: number; countMax: number }[];
}

describe("cluster-api GitOps: a ClusterSettings applied with kubectl converges jobs", function () {
  this.timeout(240_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const [alice, pool, job, other] = [`ga${id}`, `cgp-${id}`, `gjob-${id}`, `gother-${id}`];
  const team = `user-${alice}`;
  const ns = `pool-${pool}`;
  let token = "";

  /** The ClusterSettings as YAML: taskGroups as [name, countInit, countMax]. */
  const manifest = (jobs: { name: string; groups: [string, number, number][] }[]) =>
    [
      "apiVersion: berth.dev/v1alpha1",
      "kind: ClusterSettings",
      `metadata: {name: ${team}}`,
      "spec:",
      `  team: ${team}`,
      "  settings:",
      "    jobs:",
      ...jobs.flatMap((j) => [
        `      - name: ${j.name}`,
        "        image: nginx:1.27",
        "        taskGroups:",
        ...j.groups.map(([g, init, max]) => `          - {name: ${g}, countInit: ${init}, countMax: ${max}}`),
      ]),
      "",
    ].join("\n");
  const apply = (yaml: string) => kubectlStdin(yaml, "apply", "-f", "-");
  const replicas = async (deployment: string) => Number(await kubectl("get", "deployment", deployment, "-n", ns, "-o", "jsonpath={.spec.replicas}").catch(() => "-1"));
  const ready = async () => (await berth.client.getOrUndefined<ClusterSettings>(BerthTypes.ClusterSettings, undefined, team))?.status?.conditions?.find((c) => c.type === "Ready");
  const jobs = async () => (await call(berth.apiURL, "GET", "/v1/jobs", { token })).json<Job[]>();

  before(async () => {
    let tokens: Record<string, string>;
    ({ berth, tokens } = await startClusterApi(pool, [alice]));
    token = tokens[alice]!;
  });
  after(async () => {
    await kubectl("delete", "clustersettings", team, "--ignore-not-found").catch(() => undefined);
    for (const name of [job, other]) await berth.client.delete(BerthTypes.App, ns, name).catch(() => undefined);
    await berth.client.delete(BerthTypes.Pool, undefined, pool).catch(() => undefined);
    await berth?.stop();
  });

  it("kubectl apply of a job with two task groups: Apps and Deployments with the counts, Ready=True, GET /v1/jobs shows them", async () => {
    await apply(manifest([{ name: job, groups: [["web", 2, 5], ["worker", 1, 3]] }]));
    await eventually("both Deployments at their countInit", async () => (await replicas(`${job}-web`)) === 2 && (await replicas(`${job}-worker`)) === 1, 60_000, 250);
    const app = await berth.client.get<App>(BerthTypes.App, ns, job);
    expect(app.spec.owner).to.equal(team);
    expect(app.metadata.labels).to.include({ "berth.dev/cluster-job": "true", "berth.dev/team": team });
    const cs = await berth.client.get<ClusterSettings>(BerthTypes.ClusterSettings, undefined, team);
    expect(app.metadata.ownerReferences?.[0]).to.include({ kind: "ClusterSettings", name: team, uid: cs.metadata.uid });
    const r = await eventually("Ready=True", async () => {
      const c = await ready();
      return c?.status === "True" && c;
    });
    expect(r).to.include({ reason: "Converged", observedGeneration: cs.metadata.generation });
    const listed = await eventually("the job listed", async () => (await jobs()).find((j) => j.name === job));
    expect(listed.taskGroups.map((g) => [g.name, g.count, g.countInit, g.countMax])).to.deep.equal([["web", 2, 2, 5], ["worker", 1, 1, 3]]);
  });

  it("a count changed through the API is kept by the next apply; an edit applied with kubectl converges (countMax clamps, a new task group starts at countInit)", async () => {
    const up = await call(berth.apiURL, "POST", "/v1/jobs/updatecounts", { token, json: { jobID: job, taskGroup: "worker", count: 2 } });
    expect(up.status, up.text).to.equal(200);
    await apply(manifest([{ name: job, groups: [["web", 1, 1], ["worker", 1, 3], ["cron", 1, 2]] }]));
    // web's countMax fell below it: 2 → 1; worker keeps the 3 the API set; cron starts at 1.
    await eventually("the edit converged", async () => (await replicas(`${job}-web`)) === 1 && (await replicas(`${job}-worker`)) === 3 && (await replicas(`${job}-cron`)) === 1, 60_000, 250);
    // A job changed by hand converges back.
    await berth.client.mergePatch(BerthTypes.App, ns, job, { spec: { image: "nginx:1.0-by-hand" } });
    await eventually("the image put back", async () => (await berth.client.get<App>(BerthTypes.App, ns, job)).spec.image === "nginx:1.27");
  });

  it("an invalid document: Ready=False naming the path and rule, the jobs stay as they were", async () => {
    await apply(manifest([{ name: job, groups: [["web", 4, 2]] }]));
    const c = await eventually("Ready=False", async () => {
      const r = await ready();
      return r?.status === "False" && r;
    });
    expect(c.reason).to.equal("InvalidSettings");
    expect(c.message).to.contain("/jobs/0/taskGroups/0/countInit").and.to.contain("countInit<=countMax");
    expect((await berth.client.get<App>(BerthTypes.App, ns, job)).spec.processes.map((p) => p.name)).to.deep.equal(["web", "worker", "cron"]);
  });

  it("a job left out of the settings is deleted; deleting the settings deletes their jobs (garbage collection)", async () => {
    await apply(manifest([{ name: other, groups: [["main", 1, 1]] }]));
    await eventually("the left-out job gone, the new one there", async () => !(await berth.client.getOrUndefined(BerthTypes.App, ns, job)) && !!(await berth.client.getOrUndefined(BerthTypes.App, ns, other)), 60_000, 250);
    expect((await ready())?.status).to.equal("True");
    await kubectl("delete", "clustersettings", team);
    await eventually("the job collected with its settings", async () => !(await berth.client.getOrUndefined(BerthTypes.App, ns, other)), 90_000, 500);
  });

  it("a job that cannot converge (its name taken) is Ready=False NameTaken; POST /v1/settings then converges through the same controller and answers once the job is there", async () => {
    // The name belongs to an App of another owner (made directly, as another dialect would).
    const taken = `gtaken-${id}`;
    await berth.client.create<App>(BerthTypes.App, { metadata: { name: taken, namespace: ns }, spec: { image: "nginx:1.27", processes: [{ name: "web", replicas: 0 }], owner: "someone-else" } });
    try {
      // Applied with kubectl (the API would refuse it up front with a 400): the status says why.
      await apply(manifest([{ name: taken, groups: [["web", 0, 1]] }]));
      const c = await eventually("Ready=False", async () => {
        const r = await ready();
        return r?.status === "False" && r;
      });
      expect(c).to.include({ reason: "NameTaken" });
      expect((await berth.client.get<App>(BerthTypes.App, ns, taken)).spec.owner).to.equal("someone-else");
      const ok = await call(berth.apiURL, "POST", "/v1/settings", { token, json: { jobs: [{ name: job, image: "nginx:1.27", taskGroups: [{ name: "web", countInit: 1 }] }] } });
      expect(ok.status, ok.text).to.equal(200);
      // Synchronous: the job is there when the answer comes.
      expect((await jobs()).map((j) => j.name)).to.include(job);
      expect((await ready())?.status).to.equal("True");
    } finally {
      await berth.client.delete(BerthTypes.App, ns, taken).catch(() => undefined);
    }
  });
});
