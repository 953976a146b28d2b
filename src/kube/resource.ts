// Resource types and object shapes shared by the client, the cache and the controllers.

export interface ResourceType {
  group: string; // "" for the core group
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Any Kubernetes object. Concrete kinds narrow spec/status. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectList<T extends KubeObject = KubeObject> {
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export const apiVersionOf = (t: ResourceType): string => (t.group ? `${t.group}/${t.version}` : t.version);

export function resourcePath(t: ResourceType, namespace?: string, name?: string): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  const ns = t.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${t.plural}${name ? `/${encodeURIComponent(name)}` : ""}`;
}

/** "namespace/name" or "name": the work-queue and cache key of an object. */
export function keyOf(obj: { metadata: ObjectMeta }): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name}` : `${name}`;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function controllerRef(owner: KubeObject): OwnerReference {
  if (!owner.metadata.uid || !owner.metadata.name) throw new Error("owner must have a name and uid");
  return {
    apiVersion: owner.apiVersion ?? "",
    kind: owner.kind ?? "",
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * A plain (non-controller) owner reference: the dependent is garbage collected with owner.
 * type fills apiVersion/kind for objects read from a list, which lack them.
 */
export function ownerRef(owner: KubeObject, type?: ResourceType): OwnerReference {
  if (!owner.metadata.uid || !owner.metadata.name) throw new Error("owner must have a name and uid");
  return {
    apiVersion: type ? (type.group ? `${type.group}/${type.version}` : type.version) : (owner.apiVersion ?? ""),
    kind: type?.kind ?? owner.kind ?? "",
    name: owner.metadata.name,
    uid: owner.metadata.uid,
  };
}

/** Well-known core types. */
export const Types = {
  ConfigMap: { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true },
  Secret: { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true },
  Service: { group: "", version: "v1", kind: "Service", plural: "services", namespaced: true },
  Pod: { group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true },
  Namespace: { group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false },
  Node: { group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false },
  ResourceQuota: { group: "", version: "v1", kind: "ResourceQuota", plural: "resourcequotas", namespaced: true },
  LimitRange: { group: "", version: "v1", kind: "LimitRange", plural: "limitranges", namespaced: true },
  Event: { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true },
  Deployment: { group: "apps", version: "v1", kind: "Deployment", plural: "deployments", namespaced: true },
  StatefulSet: { group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets", namespaced: true },
  HorizontalPodAutoscaler: {
    group: "autoscaling",
    version: "v2",
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    namespaced: true,
  },
  PodDisruptionBudget: { group: "policy", version: "v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets", namespaced: true },
  Ingress: { group: "networking.k8s.io", version: "v1", kind: "Ingress", plural: "ingresses", namespaced: true },
  NetworkPolicy: { group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies", namespaced: true },
  Job: { group: "batch", version: "v1", kind: "Job", plural: "jobs", namespaced: true },
  CronJob: { group: "batch", version: "v1", kind: "CronJob", plural: "cronjobs", namespaced: true },
  Lease: { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true },
} satisfies Record<string, ResourceType>;
