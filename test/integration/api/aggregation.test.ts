// Aggregated mode on the real control plane: an APIService routes
// kubectl get --raw /apis/api.berth.dev/v1alpha1/... to Berth, which takes the caller from
// the front-proxy headers only after verifying the proxy's client certificate.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { RunningApi } from "../../../src/api/start.ts";
import { apiDeps, startAggregatedApi } from "../../../src/api/start.ts";
import { silentLogger } from "../../../src/log.ts";
import type { App } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { deleteNamespace, eventually, kubectl, kubectlStdin, testNamespace } from "../support/kube.ts";

describe("aggregated mode (APIService)", function () {
  this.timeout(120_000);
  let berth: RunningBerth;
  let agg: RunningApi;
  let ns = "";
  const base = "/apis/api.berth.dev/v1alpha1";

  before(async () => {
    berth = await startBerth();
    ns = await testNamespace("agg");
    const dir = mkdtempSync(join(tmpdir(), "berth-agg-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", join(dir, "tls.key"), "-out", join(dir, "tls.crt")], { stdio: "ignore" });
    const deps = apiDeps(berth.manager, "berth-system", silentLogger());
    await berth.manager.informers.waitForSync();
    agg = await startAggregatedApi(deps, { host: "127.0.0.1", port: 0, certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key"), group: "api.berth.dev", version: "v1alpha1" }, silentLogger());
    await kubectlStdin(
      `apiVersion: v1
kind: Service
metadata: {name: berth-api, namespace: ${ns}}
spec: {type: ExternalName, externalName: localhost, ports: [{name: https, port: ${agg.port}}]}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1alpha1.api.berth.dev}
spec:
  group: api.berth.dev
  version: v1alpha1
  groupPriorityMinimum: 1000
  versionPriority: 15
  insecureSkipTLSVerify: true
  service: {name: berth-api, namespace: ${ns}, port: ${agg.port}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: berth-agg-test}
rules: [{apiGroups: [api.berth.dev], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: berth-agg-test}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: berth-agg-test}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: dana}]
`,
      "apply",
      "-f",
      "-",
    );
    await eventually("APIService available", async () => (await kubectl("get", "apiservice", "v1alpha1.api.berth.dev", "-o", "jsonpath={.status.conditions[?(@.type==\"Available\")].status}")) === "True", 60_000);
    await berth.client.create<App>(BerthTypes.App, { metadata: { name: "agg-app", namespace: ns }, spec: { image: "nginx", owner: "agg-team", processes: [{ name: "web", replicas: 0 }] } });
    await eventually("app cached", async () => berth.manager.informers.informerFor<App>(BerthTypes.App).store.get(`${ns}/agg-app`));
  });
  after(async () => {
    await kubectl("delete", "apiservice", "v1alpha1.api.berth.dev", "--ignore-not-found");
    await kubectl("delete", "clusterrole,clusterrolebinding", "berth-agg-test", "--ignore-not-found");
    await agg?.close();
    await berth?.stop();
    await deleteNamespace(ns);
  });

  it("answers through kube-apiserver with the caller's identity", async () => {
    // The admin (system:masters) sees the app.
    const info = JSON.parse(await kubectl("get", "--raw", `${base}/tsuru/apps/agg-app`)) as { name: string; teamowner: string };
    expect(info).to.include({ name: "agg-app", teamowner: "agg-team" });
    // A user of the owning team (a group the proxy forwards) sees it; another team does not.
    const asMember = JSON.parse(await kubectl("get", "--raw", `${base}/tsuru/apps/agg-app`, "--as=dana", "--as-group=berth:team:agg-team", "--as-group=system:authenticated")) as { name: string };
    expect(asMember.name).to.equal("agg-app");
    const outsider = await kubectl("get", "--raw", `${base}/tsuru/apps/agg-app`, "--as=dana", "--as-group=berth:team:other", "--as-group=system:authenticated").then(
      () => "visible",
      (e: Error) => e.message,
    );
    expect(outsider).to.match(/NotFound|not found|404/i);
    // The Deis dialect is there too.
    const deis = JSON.parse(await kubectl("get", "--raw", `${base}/v1/apps/`)) as { count: number };
    expect(deis.count).to.be.at.least(1);
    // And the cluster API: the team's jobs (its Apps), as the team's member sees them.
    const member = ["--as=dana", "--as-group=berth:team:agg-team", "--as-group=system:authenticated"];
    const jobs = JSON.parse(await kubectl("get", "--raw", `${base}/v1/jobs`, ...member)) as { name: string }[];
    expect(jobs.map((j) => j.name)).to.include("agg-app");
    const outsiderJobs = JSON.parse(await kubectl("get", "--raw", `${base}/cluster/v1/jobs`, "--as=dana", "--as-group=berth:team:other", "--as-group=system:authenticated")) as { name: string }[];
    expect(outsiderJobs.map((j) => j.name)).to.not.include("agg-app");
    const settings = JSON.parse(await kubectl("get", "--raw", `${base}/v1/settings`, ...member)) as { jobs: unknown[]; logLevel: string };
    expect(settings).to.deep.equal({ jobs: [], logLevel: "info" });
  });

  it("ignores identity headers that do not come with the front proxy's certificate", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: agg.port, path: `${base}/tsuru/apps/agg-app`, rejectUnauthorized: false, headers: { "X-Remote-User": "admin", "X-Remote-Group": "system:masters" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(status).to.equal(401);
  });
});
