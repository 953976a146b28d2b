// What the caches keep of an object, as controller-runtime users set with cache transforms:
// managedFields (often half an object's bytes) and kubectl's last-applied copy are for writers,
// never read from a cache; of Pods, Deployments and Events, only what Berth's controllers and API read.
// A cached object is never written back, so a trimmed one cannot lose a field on the server.
import type { KubeObject, ResourceType } from "../kube/resource.ts";

export type Transform<T extends KubeObject = KubeObject> = (obj: T) => T;

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** controller-runtime's DefaultTransform (managedFields), and kubectl's last-applied annotation. */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  const { managedFields: _m, ...metadata } = obj.metadata as T["metadata"] & { managedFields?: unknown };
  if (metadata.annotations?.[LAST_APPLIED] !== undefined) {
    const { [LAST_APPLIED]: _l, ...annotations } = metadata.annotations;
    metadata.annotations = annotations;
  }
  return { ...obj, metadata };
}

type Container = { name: string; image?: string; ports?: unknown[] };
type PodShape = KubeObject & { spec?: { nodeName?: string; containers?: Container[] }; status?: Record<string, unknown> };

/** Of a Pod: its node, containers' names, images and ports, and the status views read (phase, IPs, conditions, container states). */
export function trimPod(obj: KubeObject): KubeObject {
  const pod = stripManagedFields(obj) as PodShape;
  const s = pod.status ?? {};
  const keep = ["phase", "reason", "message", "podIP", "hostIP", "startTime", "conditions", "containerStatuses"];
  return {
    ...pod,
    spec: { nodeName: pod.spec?.nodeName, containers: (pod.spec?.containers ?? []).map(({ name, image, ports }) => ({ name, image, ports })) },
    status: Object.fromEntries(keep.filter((k) => s[k] !== undefined).map((k) => [k, s[k]])),
  } as KubeObject;
}

/** Of a Deployment: replicas (the pod template is never read from the cache) and its status. */
export function trimDeployment(obj: KubeObject): KubeObject {
  const d = stripManagedFields(obj) as KubeObject & { spec?: { replicas?: number; paused?: boolean } };
  return { ...d, spec: { replicas: d.spec?.replicas, ...(d.spec?.paused ? { paused: true } : {}) } } as KubeObject;
}

type EventShape = KubeObject & { involvedObject?: { kind?: string; name?: string; namespace?: string } } & Record<string, unknown>;

/** Of an Event: what its log line shows (object, type, reason, message, times); not its source, series or related object. */
export function trimEvent(obj: KubeObject): KubeObject {
  const e = obj as EventShape;
  const { name, namespace, uid, resourceVersion, creationTimestamp } = e.metadata;
  const o = e.involvedObject;
  const keep = ["type", "reason", "message", "lastTimestamp", "eventTime", "firstTimestamp"].filter((k) => e[k] !== undefined && e[k] !== null);
  return {
    apiVersion: e.apiVersion,
    kind: e.kind,
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    involvedObject: { kind: o?.kind, name: o?.name, namespace: o?.namespace },
    ...Object.fromEntries(keep.map((k) => [k, e[k]])),
  } as KubeObject;
}

/** The transform the shared caches apply to objects of this type. */
export function transformFor(type: ResourceType): Transform {
  if (type.group === "" && type.plural === "pods") return trimPod;
  if (type.group === "apps" && type.plural === "deployments") return trimDeployment;
  if (type.group === "" && type.plural === "events") return trimEvent;
  return stripManagedFields;
}
