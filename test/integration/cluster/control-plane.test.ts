// Proof that the local control plane is a real Kubernetes: controllers, scheduler, garbage
// collector, EndpointSlices, CRD validation with CEL, Leases and service-account tokens.
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { deleteNamespace, eventually, kubeConfig, kubectl, kubectlStdin, testNamespace } from "../support/kube.ts";

describe("local control plane", function () {
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
  const crds = kc.makeApiClient(k8s.ApiextensionsV1Api);
  let ns = "";

  before(async () => {
    ns = await testNamespace("cp");
  });
  after(async () => {
    await deleteNamespace(ns);
  });

  const labels = { app: "web" };
  const deployment: k8s.V1Deployment = {
    metadata: { name: "web" },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [{ name: "web", image: "nginx:1.27", ports: [{ containerPort: 80 }] }],
          tolerations: [{ key: "berth.dev/dedicated", operator: "Exists" }],
        },
      },
    },
  };

  const readyPods = async (): Promise<k8s.V1Pod[]> => {
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: "app=web" });
    return pods.items.filter(
      (p) =>
        p.status?.phase === "Running" &&
        p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") &&
        !p.metadata?.deletionTimestamp,
    );
  };

  it("reports the pinned Kubernetes version", async () => {
    const v = JSON.parse(await kubectl("version", "-o", "json")) as { serverVersion: { gitVersion: string } };
    expect(v.serverVersion.gitVersion).to.match(/^v1\.(3[3-9]|[4-9]\d)\.\d+$/);
  });

  it("has KWOK nodes in two node groups, Ready", async () => {
    const nodes = (await core.listNode({ labelSelector: "type=kwok" })).items;
    expect(nodes.length).to.be.at.least(3);
    const groups = new Set(nodes.map((n) => n.metadata?.labels?.["berth.dev/node-group"]));
    expect([...groups].sort()).to.deep.equal(["dedicated", "general"]);
    for (const n of nodes) {
      expect(n.status?.conditions?.find((c) => c.type === "Ready")?.status, n.metadata?.name).to.equal("True");
    }
  });

  it("turns a Deployment into a ReplicaSet and Pods that become Running and Ready on KWOK nodes", async () => {
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment });
    const pods = await eventually("2 ready pods", async () => {
      const p = await readyPods();
      return p.length === 2 ? p : undefined;
    });
    const rs = await apps.listNamespacedReplicaSet({ namespace: ns });
    expect(rs.items).to.have.length(1);
    expect(rs.items[0]?.metadata?.ownerReferences?.[0]?.kind).to.equal("Deployment");
    for (const p of pods) {
      expect(p.spec?.nodeName).to.match(/^kwok-node-/);
      expect(p.status?.podIP).to.be.a("string");
    }
    await eventually("deployment available", async () => {
      const d = await apps.readNamespacedDeployment({ namespace: ns, name: "web" });
      return d.status?.availableReplicas === 2;
    });
  });

  it("changes the pod count when the Deployment is scaled", async () => {
    await apps.patchNamespacedDeploymentScale(
      { namespace: ns, name: "web", body: { spec: { replicas: 4 } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await eventually("4 ready pods", async () => (await readyPods()).length === 4);
    await apps.patchNamespacedDeploymentScale(
      { namespace: ns, name: "web", body: { spec: { replicas: 1 } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await eventually("1 pod left", async () => {
      const all = await core.listNamespacedPod({ namespace: ns, labelSelector: "app=web" });
      return all.items.length === 1;
    });
  });

  it("publishes an EndpointSlice for a Service selecting the pods", async () => {
    await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: "web" }, spec: { selector: labels, ports: [{ port: 80, targetPort: 80 }] } },
    });
    const pod = (await readyPods())[0];
    await eventually("an EndpointSlice with the pod's IP", async () => {
      const slices = await discovery.listNamespacedEndpointSlice({
        namespace: ns,
        labelSelector: "kubernetes.io/service-name=web",
      });
      const addrs = slices.items.flatMap((s) => s.endpoints.flatMap((e) => e.addresses));
      return addrs.includes(pod?.status?.podIP ?? "-") || undefined;
    });
  });

  it("garbage-collects ReplicaSets and Pods when the Deployment is deleted", async () => {
    await apps.deleteNamespacedDeployment({ namespace: ns, name: "web", propagationPolicy: "Background" });
    await eventually("no ReplicaSets and no Pods", async () => {
      const rs = await apps.listNamespacedReplicaSet({ namespace: ns });
      const pods = await core.listNamespacedPod({ namespace: ns });
      return rs.items.length === 0 && pods.items.length === 0;
    });
  });

  it("enforces a CRD's structural schema and CEL rule with the rule's message", async function () {
    const group = "cp-test.berth.dev";
    const crdName = `widgets.${group}`;
    await crds.deleteCustomResourceDefinition({ name: crdName }).catch(() => undefined);
    await eventually("old CRD gone", async () =>
      crds.readCustomResourceDefinition({ name: crdName }).then(() => false, () => true),
    );
    // Applied as YAML: client-node's typed model would drop "x-kubernetes-validations"
    // (it only knows the key as x_kubernetes_validations).
    await kubectlStdin(
      `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${crdName}}
spec:
  group: ${group}
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties: {min: {type: integer}, max: {type: integer}}
            x-kubernetes-validations:
            - {rule: "self.min <= self.max", message: "min must not exceed max"}
`,
      "apply",
      "-f",
      "-",
    );
    await eventually("CRD established", async () => {
      const c = await crds.readCustomResourceDefinition({ name: crdName });
      return c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True");
    });
    const widget = (min: number, max: number) =>
      `apiVersion: ${group}/v1\nkind: Widget\nmetadata: {name: w${min}${max}, namespace: ${ns}}\nspec: {min: ${min}, max: ${max}}\n`;
    await eventually("valid widget accepted", () => kubectlStdin(widget(1, 2), "apply", "-f", "-").then(() => true));
    const err = await kubectlStdin(widget(3, 2), "apply", "-f", "-").then(
      () => "accepted",
      (e: Error) => e.message,
    );
    expect(err).to.contain("min must not exceed max");
    const typeErr = await kubectlStdin(widget(1, 2).replace("min: 1", 'min: "one"'), "apply", "-f", "-").then(
      () => "accepted",
      (e: Error) => e.message,
    );
    expect(typeErr).to.match(/spec\.min.*integer/);
    await crds.deleteCustomResourceDefinition({ name: crdName });
  });

  it("creates and renews a Lease", async () => {
    const now = new k8s.V1MicroTime();
    const lease = await coordination.createNamespacedLease({
      namespace: ns,
      body: {
        metadata: { name: "leader" },
        spec: { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: now, renewTime: now },
      },
    });
    const renewed = await coordination.replaceNamespacedLease({
      namespace: ns,
      name: "leader",
      body: { ...lease, spec: { ...lease.spec, renewTime: new k8s.V1MicroTime(Date.now() + 1000) } },
    });
    expect(renewed.metadata?.resourceVersion).to.not.equal(lease.metadata?.resourceVersion);
    const time = (t: unknown) => new Date(String(t)).getTime();
    expect(time(renewed.spec?.renewTime)).to.be.greaterThan(time(lease.spec?.renewTime));
    // A write with the stale resourceVersion is a conflict: the basis of leader election.
    const stale = await coordination
      .replaceNamespacedLease({ namespace: ns, name: "leader", body: { ...lease, spec: { ...lease.spec, holderIdentity: "b" } } })
      .then(() => 200, (e: { code?: number }) => e.code);
    expect(stale).to.equal(409);
  });

  it("issues service-account tokens that authenticate", async () => {
    await eventually("default service account", () => core.readNamespacedServiceAccount({ namespace: ns, name: "default" }));
    const token = (await kubectl("create", "token", "default", "-n", ns)).trim();
    const cluster = kc.getCurrentCluster();
    // A kubeconfig-less call, so the token is the only credential presented.
    const out = await kubectl(
      "auth", "whoami", "--kubeconfig=/dev/null", `--server=${cluster?.server}`,
      `--certificate-authority=${cluster?.caFile}`, `--token=${token}`, "-o", "jsonpath={.status.userInfo.username}",
    );
    expect(out).to.equal(`system:serviceaccount:${ns}:default`);
  });
});
