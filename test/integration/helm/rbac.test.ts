// The chart's RBAC is exactly src/rbac.ts, per component (no more, no less); no component can
// read Secrets in kube-system; and Berth's controllers and API, run as the installed service
// accounts (impersonation), go through a whole flow with nothing forbidden.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { expect } from "chai";
import winston from "winston";
import { parseAllDocuments } from "yaml";
import { apiDeps, startApi } from "../../../src/api/start.ts";
import type { RunningApi } from "../../../src/api/start.ts";
import { KubeClient } from "../../../src/kube/client.ts";
import { loadConnection } from "../../../src/kube/config.ts";
import type { App, Release } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { Component, Feature, Rule, Verb } from "../../../src/rbac.ts";
import { LEASE_NAME, grantKey, grants, rulesOf } from "../../../src/rbac.ts";
import { Manager } from "../../../src/runtime/manager.ts";
import { loadGitConfig } from "../../../src/git/config.ts";
import { startGit } from "../../../src/git/start.ts";
import { installCRDs, startBerth } from "../support/berth.ts";
import { commitFiles, gitPush, sshKey } from "../support/git.ts";
import { call } from "../support/http.ts";
import { deleteNamespace, eventually, kubectl, kubectlStdin, testNamespace } from "../support/kube.ts";
import { setupControllers } from "../../../src/controllers/all.ts";

const run = promisify(execFile);
const chart = `${process.env.BERTH_ROOT ?? "."}/helm/berth`;

async function helm(...args: string[]): Promise<string> {
  const { stdout } = await run(process.env.BERTH_HELM ?? "helm", args, { maxBuffer: 32 << 20 });
  return stdout;
}

type RenderedRule = Pick<Rule, "apiGroups" | "resources" | "verbs" | "resourceNames">;
interface Rendered {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: RenderedRule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

function render(text: string): Rendered[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Rendered | null)
    .filter((m): m is Rendered => m != null);
}

function sorted(out: Record<string, Set<string>>): Record<string, string[]> {
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, [...(out[k] ?? [])].sort()]),
  );
}

/** What a service account may do, by where: "cluster" or a namespace, as sorted grant keys. */
function effective(objs: Rendered[], release: string, sa: string): Record<string, string[]> {
  const roles = new Map(objs.filter((o) => o.kind === "Role" || o.kind === "ClusterRole").map((o) => [`${o.kind}/${o.kind === "Role" ? o.metadata.namespace : ""}/${o.metadata.name}`, o]));
  const out: Record<string, Set<string>> = {};
  for (const b of objs.filter((o) => o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding")) {
    if (!b.subjects?.some((s) => s.kind === "ServiceAccount" && s.name === sa && s.namespace === release)) continue;
    const where = b.kind === "ClusterRoleBinding" ? "cluster" : (b.metadata.namespace ?? "");
    const ref = b.roleRef;
    const role = ref && roles.get(`${ref.kind}/${ref.kind === "Role" ? where : ""}/${ref.name}`);
    if (!role) throw new Error(`${b.kind} ${b.metadata.name} binds ${ref?.kind} ${ref?.name}, which the chart does not render`);
    for (const g of grants(role.rules ?? [])) (out[where] ??= new Set()).add(g);
  }
  return sorted(out);
}

/** What src/rbac.ts says the component gets, in the same shape. */
function expected(component: Component, features: Feature[], release: string, secretNamespaces: string[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const r of rulesOf(component, features)) {
    const wheres = r.scope === "cluster" ? ["cluster"] : r.scope === "release" ? [release] : r.scope === "kube-system" ? ["kube-system"] : secretNamespaces.length ? secretNamespaces : ["cluster"];
    for (const w of wheres) for (const g of grants([r])) (out[w] ??= new Set()).add(g);
  }
  return sorted(out);
}

/** A logger of warnings and errors kept in memory (forbidden requests show there). */
function warnings(): { logs: string[]; log: winston.Logger } {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString("utf8"));
      done();
    },
  });
  return { logs, log: winston.createLogger({ level: "warn", format: winston.format.json(), transports: [new winston.transports.Stream({ stream: sink })] }) };
}

/** Components whose service account the chart renders (the router only where the chart has it). */
function components(objs: Rendered[], fullname: string): Component[] {
  const sas = new Set(objs.filter((o) => o.kind === "ServiceAccount").map((o) => o.metadata.name));
  return (["controllers", "api", "router", "git"] as const).filter((c) => sas.has(`${fullname}-${c}`));
}

describe("helm chart RBAC: least privilege per component", function () {
  this.timeout(240_000);
  const release = "rbac-ns";

  const cases: { name: string; set: string[]; features: Feature[]; secretNamespaces: string[] }[] = [
    { name: "defaults", set: [], features: ["leaderElection"], secretNamespaces: [] },
    {
      name: "aggregation on, Secrets in two namespaces, no leader election",
      set: ["aggregation.enabled=true", "aggregation.insecureSkipTLSVerify=true", "rbac.secretNamespaces={apps-a,apps-b}", "controllers.leaderElection.enabled=false"],
      features: ["aggregation"],
      secretNamespaces: ["apps-a", "apps-b"],
    },
  ];
  for (const c of cases) {
    it(`renders exactly the rules of src/rbac.ts for every component (${c.name})`, async () => {
      const objs = render(await helm("template", "berth", chart, "-n", release, ...c.set.flatMap((s) => ["--set", s])));
      const present = components(objs, "berth");
      expect(present).to.include.members(["controllers", "api"]);
      for (const component of present) {
        expect(effective(objs, release, `berth-${component}`), component).to.deep.equal(expected(component, c.features, release, c.secretNamespaces));
      }
      // Every binding in the chart names one of the components' accounts.
      const accounts = new Set(present.map((p) => `berth-${p}`));
      for (const b of objs.filter((o) => o.kind.endsWith("Binding"))) for (const s of b.subjects ?? []) expect(accounts.has(s.name), `${b.kind} ${b.metadata.name} binds ${s.name}`).to.equal(true);
    });
  }

  it("grants no wildcard, nothing on nodes or reviews, update only on the Lease and Waiter tokens; no Role in kube-system grants Secrets and kube-system cannot be listed", async () => {
    const objs = render(await helm("template", "berth", chart, "-n", release, "--set", "aggregation.enabled=true", "--set", "aggregation.insecureSkipTLSVerify=true"));
    const rules = objs.flatMap((o) => (o.kind === "Role" || o.kind === "ClusterRole" ? (o.rules ?? []).map((r) => ({ o, r })) : []));
    for (const { o, r } of rules) {
      const what = `${o.kind} ${o.metadata.name}: ${JSON.stringify(r)}`;
      expect([...r.verbs, ...r.resources, ...r.apiGroups].includes("*"), what).to.equal(false);
      expect(r.resources.some((x) => ["nodes", "tokenreviews", "subjectaccessreviews"].includes(x)), what).to.equal(false);
      // update (a PUT) only where a compare-and-swap replace is the point: the Lease, Waiter tokens.
      if (r.verbs.includes("update")) expect(["leases", "waitertokens"], what).to.include.members(r.resources);
    }
    const kubeSystem = objs.filter((o) => o.kind === "Role" && o.metadata.namespace === "kube-system");
    expect(kubeSystem.flatMap((o) => o.rules ?? []).flatMap((r) => r.resources)).to.not.include("secrets");
    const refused = await helm("template", "berth", chart, "--set", "rbac.secretNamespaces={kube-system}").then(
      () => "accepted",
      (e: Error) => e.message,
    );
    expect(refused).to.match(/secretNamespaces/);
  });

  it("documents why Secrets are cluster-wide by default: one ClusterRoleBinding per component, none once namespaces are listed", async () => {
    const byDefault = render(await helm("template", "berth", chart, "-n", release));
    expect(byDefault.filter((o) => o.kind === "ClusterRoleBinding" && o.metadata.name.endsWith("-secrets")).map((o) => o.metadata.name)).to.have.members(["berth-controllers-secrets", "berth-api-secrets"]);
    const scoped = render(await helm("template", "berth", chart, "-n", release, "--set", "rbac.secretNamespaces={apps-a}"));
    expect(scoped.filter((o) => o.kind === "ClusterRoleBinding" && o.metadata.name.endsWith("-secrets"))).to.deep.equal([]);
    const dep = scoped.find((o) => o.kind === "Deployment" && o.metadata.name === "berth-controllers") as unknown as { spec: { template: { spec: { containers: { args: string[]; env: { name: string; value?: string }[] }[] } } } };
    const container = dep.spec.template.spec.containers[0];
    expect(container?.args).to.deep.equal(["run", "--no-api"]);
    // The controllers watch Secrets only where they may.
    expect(container?.env.find((e) => e.name === "BERTH_SECRET_NAMESPACES")?.value).to.equal("apps-a");
  });

  describe("installed, with Secrets scoped to the apps' namespace", function () {
    const id = randomBytes(3).toString("hex");
    const name = "berth-rbac";
    let ns = "";
    let appsNs = "";
    let otherNs = "";
    let admin: KubeClient;
    const sa = (component: Component) => `system:serviceaccount:${ns}:${name}-${component}`;
    /** A client that acts as the component's service account (impersonation). */
    const as = async (component: Component) => {
      const conn = await loadConnection();
      return KubeClient.create({ ...conn, headers: async () => ({ ...(await conn.headers()), "Impersonate-User": sa(component) }) });
    };

    before(async () => {
      await installCRDs();
      [ns, appsNs, otherNs] = await Promise.all([testNamespace("rbac"), testNamespace("rbac-apps"), testNamespace("rbac-other")]);
      await helm("install", name, chart, "-n", ns, "--skip-crds", "--set", `rbac.secretNamespaces={${appsNs}}`, "--set", "controllers.replicas=1", "--set", "api.replicas=1", "--set", "router.replicas=1");
      admin = await KubeClient.create();
    });
    after(async () => {
      await helm("uninstall", name, "-n", ns).catch(() => undefined);
      await kubectl("delete", "pool", `rbac-${id}`, "--ignore-not-found", "--wait=false").catch(() => undefined);
      await kubectl("delete", "serviceclass", `kv-${id}`, "--ignore-not-found", "--wait=false").catch(() => undefined);
      await Promise.all([ns, appsNs, otherNs].map((n) => deleteNamespace(n)));
      admin.close();
    });

    /** A SubjectAccessReview: may the account do this? */
    const allowed = async (user: string, verb: Verb, apiGroup: string, resource: string, namespace?: string, resourceName?: string): Promise<boolean> => {
      const [res, subresource] = resource.split("/");
      const review = await admin.request<{ status: { allowed: boolean } }>("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        body: { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec: { user, resourceAttributes: { verb, group: apiGroup, resource: res, subresource, namespace, name: resourceName } } },
      });
      return review.status.allowed;
    };

    it("no component can read Secrets in kube-system (kubectl auth can-i)", async () => {
      for (const component of ["controllers", "api", "router", "git"] as const) {
        for (const verb of ["get", "list", "watch"]) {
          const answer = await kubectl("auth", "can-i", "--as", sa(component), verb, "secrets", "-n", "kube-system").catch((e: { stdout?: string }) => e.stdout ?? "error");
          expect(answer.trim(), `${component} ${verb} secrets -n kube-system`).to.equal("no");
        }
        // Nor in a namespace that is not listed; but in the apps' namespace, yes (the router and the git endpoint never).
        expect(await allowed(sa(component), "get", "", "secrets", otherNs)).to.equal(false);
        expect(await allowed(sa(component), "get", "", "secrets", appsNs)).to.equal(component !== "router" && component !== "git");
      }
    });

    it("the live cluster allows each component what src/rbac.ts lists, and denies what it leaves out", async () => {
      for (const component of ["controllers", "api", "router", "git"] as const) {
        for (const r of rulesOf(component, ["leaderElection"])) {
          const where = r.scope === "cluster" ? [undefined] : r.scope === "release" ? [ns] : r.scope === "appNamespaces" ? [appsNs] : ["kube-system"];
          for (const namespace of where)
            for (const apiGroup of r.apiGroups)
              for (const resource of r.resources)
                for (const verb of r.verbs)
                  for (const resourceName of r.resourceNames ?? [undefined]) {
                    const key = grantKey({ apiGroup, resource, verb, resourceName });
                    expect(await allowed(sa(component), verb, apiGroup, resource, namespace, resourceName), `${component}: ${key} in ${namespace ?? "the cluster"}`).to.equal(true);
                  }
        }
      }
      const denied: [Component, Verb, string, string, string | undefined][] = [
        ["controllers", "update", "apps", "deployments", appsNs],
        ["controllers", "delete", "", "secrets", appsNs],
        ["controllers", "update", "coordination.k8s.io", "leases", ns],
        ["controllers", "list", "", "nodes", undefined],
        ["controllers", "get", "", "configmaps", ns],
        ["api", "create", "apps", "deployments", appsNs],
        ["api", "delete", "batch", "jobs", appsNs],
        ["api", "update", "berth.dev", "apps", appsNs],
        ["api", "patch", "berth.dev", "apps/status", appsNs],
        ["api", "list", "berth.dev", "tokens", undefined],
        ["api", "get", "", "configmaps", "kube-system"],
        ["api", "create", "authentication.k8s.io", "tokenreviews", undefined],
        ["router", "get", "berth.dev", "apps", appsNs],
        ["router", "list", "", "pods", undefined],
        // The router reads Services (a sleeping App's ClusterIP) and writes only its EndpointSlices.
        ["router", "patch", "", "services", appsNs],
        ["router", "update", "discovery.k8s.io", "endpointslices", appsNs],
        // The git endpoint: its host key only, no other Secret of Berth's namespace, no tokens, no workloads.
        ["git", "get", "", "secrets", ns],
        ["git", "list", "", "secrets", ns],
        ["git", "list", "berth.dev", "tokens", undefined],
        ["git", "create", "berth.dev", "apps", appsNs],
        ["git", "patch", "apps", "deployments", appsNs],
      ];
      for (const [component, verb, group, resource, namespace] of denied) {
        expect(await allowed(sa(component), verb, group, resource, namespace), `${component} must not ${verb} ${resource} in ${namespace ?? "the cluster"}`).to.equal(false);
      }
    });

    it("runs the controllers and the API as their service accounts through a whole tsuru flow, nothing forbidden", async () => {
      const { logs, log } = warnings();
      const [controllersClient, apiClient] = await Promise.all([as("controllers"), as("api")]);
      const controllers = new Manager({
        client: controllersClient,
        log,
        leaderElection: { namespace: ns, name: LEASE_NAME, identity: `rbac-test-${id}`, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
      });
      setupControllers(controllers, { namespace: ns, concurrency: 2, secretNamespaces: [appsNs] });
      const email = `admin-${id}@example.com`;
      const apiManager = new Manager({ client: apiClient, log });
      const deps = apiDeps(apiManager, ns, log, email);
      const abort = new AbortController();
      let api: RunningApi | undefined;
      const running = [controllers.run(abort.signal), apiManager.run(abort.signal)];
      try {
        api = await startApi(deps, { apiHost: "127.0.0.1", apiPort: 0 }, log);
        const base = `http://127.0.0.1:${api.port}`;
        await eventually("the API's caches synced", () => Promise.resolve(deps.ready()), 60_000);
        const [pool, team, app] = [`rbac-${id}`, `team-${id}`, `app-${id}`];
        await kubectlStdin(`apiVersion: berth.dev/v1alpha1\nkind: Pool\nmetadata: {name: ${pool}}\nspec: {namespace: ${appsNs}, public: true}\n`, "apply", "-f", "-");
        await eventually("the pool's namespace converged", async () => (await kubectl("get", "pool", pool, "-o", "jsonpath={.status.namespace}")) === appsNs);

        // Registration by the bootstrap e-mail: the admin marker ConfigMap, a password Secret.
        expect((await call(base, "POST", "/1.0/users", { form: { email, password: "s3cret-pw" } })).status).to.equal(201);
        const login = await call(base, "POST", "/1.0/auth/login", { form: { email, password: "s3cret-pw" } });
        expect(login.status, login.text).to.equal(200);
        const token = login.json<{ token: string }>().token;
        expect((await call(base, "POST", "/1.0/teams", { token, form: { name: team } })).status).to.equal(201);
        const created = await call(base, "POST", "/1.0/apps", { token, form: { name: app, teamOwner: team, pool } });
        expect(created.status, created.text).to.equal(201);
        const priv = await call(base, "POST", `/1.0/apps/${app}/env`, { token, form: { "Envs.0.Name": "DB_PASSWORD", "Envs.0.Value": "hunter2", Private: "true" } });
        expect(priv.status, priv.text).to.equal(200);
        const deploy = await call(base, "POST", `/1.0/apps/${app}/deploy`, { token, form: { image: "nginx:1.27" } });
        expect(deploy.status, deploy.text).to.equal(200);
        await eventually("the app Ready", async () => {
          const a = await admin.get<App>(BerthTypes.App, appsNs, app);
          return a.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? a : undefined;
        }, 90_000);
        const env = await call(base, "GET", `/1.0/apps/${app}/env`, { token });
        expect(env.text).to.contain("DB_PASSWORD");
        const restart = await call(base, "POST", `/1.0/apps/${app}/restart`, { token });
        expect(restart.text).to.contain("restarted");
        const teamToken = await call(base, "POST", "/1.0/tokens", { token, form: { token_id: `t-${id}`, team } });
        expect(teamToken.status, teamToken.text).to.equal(201);

        // A service instance, bound: credentials Secret, workload, NetworkPolicy, finalizer.
        await kubectlStdin(
          `apiVersion: berth.dev/v1alpha1\nkind: ServiceClass\nmetadata: {name: kv-${id}}\nspec:\n  image: redis:7\n  port: 6379\n  bindEnv: [{name: KV_URL, value: "redis://:$(PASSWORD)@$(HOST):$(PORT)"}]\n  plans: [{name: tiny, memory: 64Mi}]\n`,
          "apply",
          "-f",
          "-",
        );
        await eventually("class cached", async () => (await call(base, "GET", `/1.0/services/kv-${id}/plans`, { token })).status === 200);
        const si = await call(base, "POST", `/1.0/services/kv-${id}/instances`, { token, form: { name: "cache", plan: "tiny", owner: team, pool } });
        expect(si.status, si.text).to.equal(201);
        await eventually("instance up", async () => (await call(base, "GET", `/1.0/services/kv-${id}/instances/cache/status`, { token })).text.endsWith("is up"), 90_000);
        expect((await call(base, "PUT", `/1.0/services/kv-${id}/instances/cache/${app}`, { token, form: { noRestart: "false" } })).status).to.equal(200);
        await eventually("a release with KV_URL", async () => {
          const a = await admin.get<App>(BerthTypes.App, appsNs, app);
          const releases = await admin.list<Release>(BerthTypes.Release, { namespace: appsNs });
          return releases.items.some((r) => r.spec.app === app && r.spec.version === a.status?.currentReleaseVersion && r.spec.envNames?.includes("KV_URL"));
        }, 60_000);

        // The cloud API: an organization key, a service (credentials from a password request,
        // workload, HPA from memory bounds, backup Jobs cached), a password reset, stop, delete.
        await admin.mergePatch(BerthTypes.ServiceClass, undefined, `kv-${id}`, { metadata: { labels: { "berth.dev/cloud": "true" } } });
        await admin.mergePatch(BerthTypes.Pool, undefined, pool, { spec: { teams: [team] } });
        const teamObj = await eventually("team cached", () => Promise.resolve(deps.identity.team(team)));
        const key = await deps.identity.createCloudKey(teamObj, "admin");
        const org = teamObj.metadata.uid ?? "";
        const headers = { Authorization: `Basic ${Buffer.from(`${key.keyId}:${key.keySecret}`).toString("base64")}`, "Content-Type": "application/json" };
        const cloud = async (method: string, path: string, body?: unknown) => {
          const r = await fetch(`${base}/v1/organizations/${org}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
          const text = await r.text();
          expect(r.status, `${method} ${path}: ${text}`).to.equal(200);
          return (JSON.parse(text) as { result?: { id?: string; state?: string; service?: { id: string } } }).result;
        };
        const sid = (await cloud("POST", "/services", { name: "cloud db", provider: "aws", region: "eu-west-1", minTotalMemoryGb: 24, maxTotalMemoryGb: 48 }))?.service?.id ?? "";
        await eventually("the cloud service running", async () => (await cloud("GET", `/services/${sid}`))?.state === "running", 90_000);
        await cloud("PATCH", `/services/${sid}/password`);
        await cloud("PATCH", `/services/${sid}/scaling`, { minTotalMemoryGb: 24, maxTotalMemoryGb: 36 });
        await cloud("GET", `/services/${sid}/backups`);
        await cloud("PATCH", `/services/${sid}/state`, { command: "stop" });
        await eventually("the cloud service stopped", async () => (await cloud("GET", `/services/${sid}`))?.state === "stopped", 90_000);
        await cloud("DELETE", `/services/${sid}`);

        // One-off command (a Job), unit kill (a pod), logs.
        const runOnce = await call(base, "POST", `/1.0/apps/${app}/run`, { token, form: { command: "echo hi" } });
        expect(runOnce.status, runOnce.text).to.equal(200);
        expect(runOnce.text).to.not.contain('"Error"');
        const pod = (await kubectl("get", "pods", "-n", appsNs, "-l", `berth.dev/app=${app},berth.dev/process=web`, "-o", "jsonpath={.items[0].metadata.name}")).trim();
        const kill = await call(base, "DELETE", `/1.0/apps/${app}/units/${pod}`, { token });
        expect(kill.text).to.contain("killed");
        expect(kill.text).to.not.contain('"Error"');
        expect((await call(base, "GET", `/1.0/apps/${app}/log?lines=5`, { token })).status).to.be.oneOf([200, 204]);

        // Leader election worked on the Lease it may touch.
        expect(await kubectl("get", "lease", LEASE_NAME, "-n", ns, "-o", "jsonpath={.spec.holderIdentity}")).to.equal(`rbac-test-${id}`);

        expect((await call(base, "DELETE", `/1.0/services/kv-${id}/instances/cache/${app}`, { token })).status).to.equal(200);
        const rm = await call(base, "DELETE", `/1.0/apps/${app}`, { token });
        expect(rm.text).to.contain("Done removing application");
      } catch (e) {
        // What the processes logged (forbidden requests show here).
        throw new Error(`${e instanceof Error ? e.message : String(e)}\nwarnings and errors:\n${logs.slice(-10).map((l) => l.slice(0, 400)).join("\n")}`);
      } finally {
        abort.abort();
        await Promise.all(running);
        await api?.close();
        await Promise.all([controllers.close(), apiManager.close()]);
        controllersClient.close();
        apiClient.close();
      }
      // Objects of other tests in the cluster (other namespaces) are not this flow's business;
      // anything forbidden in this flow's namespaces or cluster-wide is a missing rule.
      // (The service account's own name contains the release namespace: match the namespace the
      // request was refused in, not the whole line; other tests' leftovers elsewhere do not count.)
      const refusedIn = (l: string) => /in the namespace \\?"([^"\\]+)/.exec(l)?.[1];
      // Only RBAC denials count ("cannot <verb> resource"), not e.g. a terminating namespace.
      const forbidden = logs.filter((l) => /cannot \w+ resource/.test(l) && [ns, appsNs, undefined].includes(refusedIn(l)));
      expect(forbidden, forbidden.join("\n")).to.deep.equal([]);
    });

    it("runs the git endpoint as its service account through a Deis git push, nothing forbidden", async function () {
      const registry = process.env.BERTH_REGISTRY ?? "";
      const tags = registry ? await fetch(`http://${registry}/v2/berth/busybox/tags/list`).then((r) => (r.ok ? (r.json() as Promise<{ tags?: string[] }>) : {}), () => ({})) : {};
      const tag = (tags as { tags?: string[] }).tags?.[0];
      if (!tag) {
        process.stdout.write("      skipped: no registry with berth/busybox (BERTH_REGISTRY from hack/cluster.sh env)\n");
        this.skip();
      }
      const dir = mkdtempSync(join(tmpdir(), "berth-rbac-git-"));
      const [pool, platform, app, user] = [`rbac-${id}`, `rbacgit-${id}`, `gitapp-${id}`, `gituser${id}`];
      const berth = await startBerth({ api: true });
      const gitClient = await as("git");
      const { logs, log } = warnings();
      // In the release namespace: the host key Secret is made there, as the chart runs it.
      const git = await startGit({ client: gitClient, log }, { ...loadGitConfig([], {}), port: 0, metricsPort: 0, namespace: ns, rolloutTimeoutMs: 90_000 });
      try {
        await kubectlStdin(`apiVersion: berth.dev/v1alpha1\nkind: Pool\nmetadata: {name: ${pool}}\nspec: {namespace: ${appsNs}, public: true}\n---\napiVersion: berth.dev/v1alpha1\nkind: Platform\nmetadata: {name: ${platform}}\nspec: {image: "${registry}/berth/busybox:${tag}"}\n`, "apply", "-f", "-");
        expect((await call(berth.apiURL, "POST", "/v1/auth/register/", { json: { username: user, password: "opensesame", email: `${user}@example.com` } })).status).to.equal(201);
        const token = (await call(berth.apiURL, "POST", "/v1/auth/login/", { json: { username: user, password: "opensesame" } })).json<{ token: string }>().token;
        const deis = (method: string, path: string, json?: unknown) => call(berth.apiURL, method, path, { token, scheme: "token", ...(json !== undefined ? { json } : {}) });
        expect((await deis("POST", "/v1/keys/", { id: "laptop", public: await sshKey(join(dir, "key")) })).status).to.equal(201);
        expect((await deis("POST", "/v1/apps/", { id: app, pool })).status).to.equal(201);
        await admin.mergePatch(BerthTypes.App, appsNs, app, { spec: { platform } });
        const repo = join(dir, "repo");
        await commitFiles(repo, { Procfile: "web: exec httpd -f -p $PORT -h /app\n", "index.html": "hi\n" }, "one", true);
        const pushed = await gitPush(repo, git.port, app, join(dir, "key"));
        expect(pushed.code, pushed.out).to.equal(0);
        expect(pushed.out).to.match(new RegExp(`done, ${app}:v\\d+ deployed to Deis`));
        expect(await kubectl("get", "secret", "berth-git-host-key", "-n", ns, "-o", "name")).to.contain("berth-git-host-key");
        expect(logs.filter((l) => /forbidden/i.test(l))).to.deep.equal([]);
        await deis("DELETE", `/v1/apps/${app}/`);
        await deis("DELETE", "/v1/auth/cancel");
      } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\nwarnings and errors:\n${logs.slice(-10).map((l) => l.slice(0, 400)).join("\n")}`);
      } finally {
        await git.close();
        gitClient.close();
        await kubectl("delete", "platform.berth.dev", platform, "--ignore-not-found").catch(() => undefined);
        await berth.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
