// The Helm chart: lint, render, validate against the live API server, install for real.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "chai";
import { parseAllDocuments } from "yaml";
import { deleteNamespace, eventually, kubectl, kubectlStdin, testNamespace } from "../support/kube.ts";

const run = promisify(execFile);
const chart = `${process.env.BERTH_ROOT ?? "."}/helm/berth`;

async function helm(...args: string[]): Promise<string> {
  const { stdout } = await run(process.env.BERTH_HELM ?? "helm", args, { maxBuffer: 32 << 20 });
  return stdout;
}

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}

function kinds(rendered: string): Manifest[] {
  return parseAllDocuments(rendered)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m != null);
}

describe("helm chart", function () {
  let ns = "";
  before(async () => {
    ns = await testNamespace("helm");
  });
  after(async () => {
    await helm("uninstall", "berth", "-n", ns).catch(() => undefined);
    await deleteNamespace(ns);
  });

  it("passes helm lint", async () => {
    const out = await helm("lint", chart);
    expect(out).to.contain("0 chart(s) failed");
  });

  it("renders the controllers and the API as two Deployments: 2 replicas each, leader election, non-root read-only pods, a PDB and a service account each", async () => {
    const objs = kinds(await helm("template", "berth", chart, "-n", ns));
    const byKind = (k: string) => objs.filter((o) => o.kind === k);
    type Dep = {
      metadata: { name: string };
      spec: {
        replicas: number;
        selector: { matchLabels: Record<string, string> };
        template: {
          spec: {
            serviceAccountName: string;
            securityContext: { runAsNonRoot: boolean };
            containers: { args: string[]; securityContext: { readOnlyRootFilesystem: boolean }; env: { name: string; value?: string }[] }[];
          };
        };
      };
    };
    const deps = byKind("Deployment").filter((d) => d.metadata.name !== "berth-router" && d.metadata.name !== "berth-git") as unknown as Dep[];
    expect(deps.map((d) => d.metadata.name)).to.have.members(["berth-controllers", "berth-api"]);
    for (const dep of deps) {
      const component = dep.metadata.name.replace("berth-", "");
      expect(dep.spec.replicas).to.equal(2);
      expect(dep.spec.selector.matchLabels["app.kubernetes.io/component"]).to.equal(component);
      expect(dep.spec.template.spec.serviceAccountName).to.equal(dep.metadata.name);
      expect(dep.spec.template.spec.securityContext.runAsNonRoot).to.equal(true);
      const c = dep.spec.template.spec.containers[0];
      expect(c?.securityContext.readOnlyRootFilesystem).to.equal(true);
      expect(c?.args).to.deep.equal(["run", component === "api" ? "--no-controllers" : "--no-api"]);
      expect(c?.env.find((e) => e.name === "BERTH_LEADER_ELECT")?.value).to.equal(component === "controllers" ? "true" : undefined);
    }
    expect(byKind("PodDisruptionBudget").map((o) => o.metadata.name)).to.have.members(["berth-controllers", "berth-api"]);
    // Each component its own account.
    expect(byKind("ServiceAccount").map((o) => o.metadata.name)).to.have.members(["berth-controllers", "berth-api", "berth-router", "berth-git"]);
    // The API's Service selects the API's pods only; the controllers' serves their metrics.
    const services = byKind("Service") as unknown as { metadata: { name: string }; spec: { selector: Record<string, string> } }[];
    expect(services.map((o) => [o.metadata.name, o.spec.selector["app.kubernetes.io/name"], o.spec.selector["app.kubernetes.io/component"]])).to.have.deep.members([
      ["berth", "berth", "api"],
      ["berth-controllers", "berth", "controllers"],
      ["berth-router", "berth-router", undefined],
      ["berth-git", "berth", "git"],
    ]);
    expect(byKind("ServiceMonitor")).to.have.length(0);
  });

  it("scales the components on their own and leaves a disabled one out", async () => {
    const objs = kinds(await helm("template", "berth", chart, "-n", ns, "--set", "api.replicas=5", "--set", "controllers.replicas=1"));
    const replicas = (name: string) => (objs.find((o) => o.kind === "Deployment" && o.metadata.name === name)?.spec as { replicas: number }).replicas;
    expect([replicas("berth-api"), replicas("berth-controllers")]).to.deep.equal([5, 1]);
    // One controller replica: no PDB that would block a drain.
    expect(objs.filter((o) => o.kind === "PodDisruptionBudget").map((o) => o.metadata.name)).to.deep.equal(["berth-api"]);
    const apiOnly = kinds(await helm("template", "berth", chart, "-n", ns, "--set", "controllers.enabled=false"));
    expect(apiOnly.filter((o) => o.metadata.name.startsWith("berth-controllers"))).to.deep.equal([]);
  });

  it("renders the router as its own Deployment with RBAC to read Apps, EndpointSlices and Services, to patch Apps (scale to zero sets spec.state) and to write its sleeping EndpointSlices, and leaves it out when disabled", async () => {
    const objs = kinds(await helm("template", "berth", chart, "-n", ns, "--set", "router.replicas=3", "--set", "router.appsDomain=apps.example.org"));
    const named = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
    const dep = named("Deployment", "berth-router") as unknown as {
      spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { spec: { serviceAccountName: string; containers: { args: string[]; env: { name: string; value?: string }[] }[] } } };
    };
    expect(dep.spec.replicas).to.equal(3);
    const c = dep.spec.template.spec.containers[0];
    expect(c?.args).to.deep.equal(["router"]);
    expect(c?.env.find((e) => e.name === "BERTH_APPS_DOMAIN")?.value).to.equal("apps.example.org");
    expect(dep.spec.template.spec.serviceAccountName).to.equal("berth-router");
    // Neither the controllers' nor the API's Deployment may select the router's pods.
    for (const name of ["berth-controllers", "berth-api"]) {
      const other = named("Deployment", name) as unknown as { spec: { selector: { matchLabels: Record<string, string> } } };
      expect(other.spec.selector.matchLabels["app.kubernetes.io/name"]).to.not.equal(dep.spec.selector.matchLabels["app.kubernetes.io/name"]);
    }
    const role = named("ClusterRole", "berth-router") as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    expect(role.rules).to.deep.equal([
      { apiGroups: ["berth.dev"], resources: ["apps"], verbs: ["list", "watch", "patch"] },
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch", "create", "patch", "delete"] },
      { apiGroups: [""], resources: ["services"], verbs: ["list", "watch"] },
    ]);
    const without = kinds(await helm("template", "berth", chart, "-n", ns, "--set", "router.enabled=false"));
    expect(without.filter((o) => o.metadata.name === "berth-router")).to.deep.equal([]);
    const bad = await helm("template", "berth", chart, "--set", "router.appsDomain=Not_A_Domain").then(
      () => "accepted",
      (e: Error) => e.message,
    );
    expect(bad).to.match(/appsDomain/);
  });

  it("caps each container's V8 heap (NODE_OPTIONS --max-old-space-size) below that container's memory limit", async () => {
    type Container = { env?: { name: string; value?: string }[]; resources?: { limits?: { memory?: string } } };
    const deployments = kinds(await helm("template", "berth", chart, "-n", ns)).filter((o) => o.kind === "Deployment") as unknown as {
      metadata: { name: string };
      spec: { template: { spec: { containers: Container[] } } };
    }[];
    const caps = deployments.flatMap((d) =>
      d.spec.template.spec.containers.map((c) => {
        const heap = /--max-old-space-size=(\d+)/.exec(c.env?.find((e) => e.name === "NODE_OPTIONS")?.value ?? "")?.[1];
        const limit = /^(\d+)Mi$/.exec(c.resources?.limits?.memory ?? "")?.[1];
        return { deployment: d.metadata.name, heapMiB: Number(heap), limitMiB: Number(limit) };
      }),
    );
    expect(caps.map((c) => c.deployment)).to.include.members(["berth-controllers", "berth-api", "berth-router", "berth-git"]);
    for (const c of caps) expect(c.heapMiB, c.deployment).to.be.above(0).and.below(c.limitMiB);
  });

  it("renders the git endpoint as its own Deployment (SSH on 2222, the image's git target, the builder's registry), with a mounted host key when given, and leaves it out when disabled", async () => {
    const objs = kinds(await helm("template", "berth", chart, "-n", ns, "--set", "git.hostKeySecret=my-host-key", "--set", "registry.host=registry.example.com", "--set", "image.tag=1.2.3"));
    const named = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
    const dep = named("Deployment", "berth-git") as unknown as {
      spec: { template: { spec: { serviceAccountName: string; volumes: { name: string; secret?: { secretName: string } }[]; containers: { image: string; args: string[]; env: { name: string; value?: string }[] }[] } } };
    };
    const c = dep.spec.template.spec.containers[0];
    expect(c?.args).to.deep.equal(["git"]);
    expect(c?.image).to.match(/:1\.2\.3-git$/);
    const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
    expect(env).to.include({ BERTH_GIT_PORT: "2222", BERTH_GIT_ADDRESS: "0.0.0.0", BERTH_REGISTRY: "registry.example.com/berth-apps", BERTH_GIT_HOST_KEY_FILE: "/var/run/berth/git/ssh_host_ed25519_key" });
    expect(dep.spec.template.spec.serviceAccountName).to.equal("berth-git");
    expect(dep.spec.template.spec.volumes.find((v) => v.name === "host-key")?.secret?.secretName).to.equal("my-host-key");
    const svc = named("Service", "berth-git") as unknown as { spec: { ports: { name: string; port: number }[] } };
    expect(svc.spec.ports.find((p) => p.name === "ssh")?.port).to.equal(2222);
    const without = kinds(await helm("template", "berth", chart, "-n", ns, "--set", "git.enabled=false"));
    expect(without.filter((o) => o.metadata.name === "berth-git")).to.deep.equal([]);
  });

  it("renders the optional ServiceMonitor, Ingress and APIService when enabled", async () => {
    const objs = kinds(
      await helm(
        "template", "berth", chart, "-n", ns,
        "--set", "serviceMonitor.enabled=true",
        "--set", "ingress.enabled=true", "--set", "ingress.hosts[0].host=berth.example.com",
        "--set", "aggregation.enabled=true", "--set", "aggregation.insecureSkipTLSVerify=true",
      ),
    );
    const names = objs.map((o) => o.kind);
    expect(names).to.include.members(["ServiceMonitor", "Ingress", "APIService"]);
  });

  it("rejects values that break the schema, naming the value", async () => {
    const err = await helm("template", "berth", chart, "--set", "api.replicas=-1").then(
      () => "accepted",
      (e: Error) => e.message,
    );
    expect(err).to.match(/replicas/);
    const unknown = await helm("template", "berth", chart, "--set", "replicaCount=2").then(
      () => "accepted",
      (e: Error) => e.message,
    );
    expect(unknown).to.match(/replicaCount/);
  });

  it("renders manifests the live API server accepts (server-side dry run)", async () => {
    const rendered = await helm("template", "berth", chart, "-n", ns, "--skip-crds");
    const out = await kubectlStdin(rendered, "apply", "--dry-run=server", "-n", ns, "-f", "-");
    expect(out).to.contain("deployment.apps/berth-controllers created (server dry run)");
    expect(out).to.contain("deployment.apps/berth-api created (server dry run)");
  });

  it("installs into the cluster and its pods become Ready on KWOK nodes", async () => {
    await helm("install", "berth", chart, "-n", ns, "--skip-crds", "--wait", "--timeout", "90s");
    for (const name of ["berth-controllers", "berth-api", "berth-router"]) {
      const ready = await eventually(`2 ready replicas of ${name}`, async () => {
        const out = await kubectl("get", "deployment", name, "-n", ns, "-o", "jsonpath={.status.readyReplicas}");
        return out === "2" ? out : undefined;
      });
      expect(ready).to.equal("2");
    }
    // The API's Service has the API's pods behind it.
    const endpoints = await eventually("the API Service's endpoints", async () => {
      const out = await kubectl("get", "endpointslices", "-n", ns, "-l", "kubernetes.io/service-name=berth", "-o", "jsonpath={.items[*].endpoints[*].targetRef.name}");
      return out.split(" ").filter(Boolean).length === 2 ? out : undefined;
    });
    expect(endpoints.split(" ").every((p) => p.startsWith("berth-api-"))).to.equal(true);
    const status = await helm("status", "berth", "-n", ns, "-o", "json");
    expect((JSON.parse(status) as { info: { status: string } }).info.status).to.equal("deployed");
  });
});
