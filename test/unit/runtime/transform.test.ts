import { expect } from "chai";
import type { KubeObject } from "../../../src/kube/resource.ts";
import { Types } from "../../../src/kube/resource.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import { stripManagedFields, transformFor, trimDeployment, trimEvent, trimPod } from "../../../src/runtime/transform.ts";

const meta = {
  name: "a",
  namespace: "ns",
  resourceVersion: "9",
  labels: { app: "a" },
  annotations: { "berth.dev/applied-hash": "h", "kubectl.kubernetes.io/last-applied-configuration": "{...}" },
  ownerReferences: [{ apiVersion: "berth.dev/v1", kind: "App", name: "a", uid: "u", controller: true }],
  managedFields: [{ manager: "kubectl", operation: "Apply", fieldsV1: { "f:spec": {} } }],
};

describe("cache transforms", () => {
  it("strip managedFields and kubectl's last-applied copy, keeping everything else", () => {
    const obj = { metadata: structuredClone(meta), spec: { image: "x" } } as KubeObject;
    const out = stripManagedFields(obj);
    expect(out.metadata).to.not.have.property("managedFields");
    expect(out.metadata.annotations).to.deep.equal({ "berth.dev/applied-hash": "h" });
    expect(out.metadata.labels).to.deep.equal({ app: "a" });
    expect(out.metadata.ownerReferences).to.deep.equal(meta.ownerReferences);
    expect(out.spec).to.deep.equal({ image: "x" });
    // The input is not changed (it may be shared).
    expect(obj.metadata).to.have.property("managedFields");
  });

  it("keep of a Pod what the views and the image-problem check read", () => {
    const pod = {
      metadata: structuredClone(meta),
      spec: { nodeName: "n1", volumes: [{ name: "v" }], tolerations: [{ key: "t" }], containers: [{ name: "web", image: "nginx", ports: [{ containerPort: 80 }], env: [{ name: "A", value: "1" }], resources: {} }] },
      status: {
        phase: "Running",
        podIP: "10.0.0.1",
        hostIP: "10.1.0.1",
        startTime: "2026-01-01T00:00:00Z",
        qosClass: "BestEffort",
        conditions: [{ type: "Ready", status: "True" }],
        containerStatuses: [{ name: "web", image: "nginx", ready: true, state: { waiting: { reason: "ErrImagePull", message: "m" } } }],
      },
    } as KubeObject;
    const out = trimPod(pod) as KubeObject & { spec: unknown; status: Record<string, unknown> };
    expect(out.spec).to.deep.equal({ nodeName: "n1", containers: [{ name: "web", image: "nginx", ports: [{ containerPort: 80 }] }] });
    expect(Object.keys(out.status).sort()).to.deep.equal(["conditions", "containerStatuses", "hostIP", "phase", "podIP", "startTime"]);
    expect(out.metadata.labels).to.deep.equal({ app: "a" });
    expect(out.metadata).to.not.have.property("managedFields");
  });

  it("keep of a Deployment its replicas and status, not its pod template", () => {
    const d = { metadata: structuredClone(meta), spec: { replicas: 2, selector: {}, template: { spec: { containers: [] } } }, status: { readyReplicas: 1, observedGeneration: 3 } } as KubeObject;
    const out = trimDeployment(d);
    expect(out.spec).to.deep.equal({ replicas: 2 });
    expect(out.status).to.deep.equal({ readyReplicas: 1, observedGeneration: 3 });
  });

  it("keep of an Event its object, type, reason, message and times", () => {
    const e = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { ...structuredClone(meta), uid: "e1", creationTimestamp: "2026-01-01T00:00:00Z" },
      involvedObject: { apiVersion: "v1", kind: "Pod", name: "web-1", namespace: "ns", uid: "p1", resourceVersion: "5", fieldPath: "spec.containers{web}" },
      type: "Normal",
      reason: "Scheduled",
      message: "Successfully assigned ns/web-1 to n1",
      firstTimestamp: "2026-01-01T00:00:00Z",
      lastTimestamp: "2026-01-01T00:00:01Z",
      eventTime: null,
      count: 1,
      source: { component: "default-scheduler" },
      reportingComponent: "default-scheduler",
      reportingInstance: "",
    } as unknown as KubeObject;
    expect(trimEvent(e)).to.deep.equal({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "a", namespace: "ns", uid: "e1", resourceVersion: "9", creationTimestamp: "2026-01-01T00:00:00Z" },
      involvedObject: { kind: "Pod", name: "web-1", namespace: "ns" },
      type: "Normal",
      reason: "Scheduled",
      message: "Successfully assigned ns/web-1 to n1",
      firstTimestamp: "2026-01-01T00:00:00Z",
      lastTimestamp: "2026-01-01T00:00:01Z",
    });
  });

  it("are chosen by type: Pods, Deployments and Events trimmed, every other kind stripped of managedFields", () => {
    expect(transformFor(Types.Pod)).to.equal(trimPod);
    expect(transformFor(Types.Deployment)).to.equal(trimDeployment);
    expect(transformFor(Types.Event)).to.equal(trimEvent);
    expect(transformFor(BerthTypes.App)).to.equal(stripManagedFields);
    expect(transformFor(Types.Service)).to.equal(stripManagedFields);
  });
});
