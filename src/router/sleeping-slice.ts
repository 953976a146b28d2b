// The sleeping endpoint (the activator pattern, as Knative's activator): while an App that
// scales to zero has no ready pod, the router adds an EndpointSlice of its own to the App's web
// Service whose endpoints are the router itself, so ClusterIP traffic (and any ingress that
// follows EndpointSlices) reaches the router, which holds the request and wakes the App. Once
// the App's own endpoints are ready the slice goes, and comes back when the App sleeps again.
//
// One slice per App (not per router replica): every replica computes the same slice from the
// same caches and applies it with one field manager, so replicas agree without a leader and a
// dead replica leaves nothing behind (its address leaves the router Service's endpoints, which
// every replica follows; slices in app namespaces cannot be owned by the router's pod).
import { isIP } from "node:net";
import type { KubeObject } from "../kube/resource.ts";
import type { App } from "../model/kinds.ts";
import { Labels } from "../model/kinds.ts";
import type { EndpointSlice } from "./endpoints.ts";
import { SERVICE_NAME_LABEL } from "./endpoints.ts";

export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
/** The managed-by value (and server-side apply field manager) of the router's slices. */
export const ROUTER_MANAGER = "router.berth.dev";

export type Service = KubeObject & {
  spec?: { clusterIP?: string; clusterIPs?: string[]; ports?: { name?: string; port: number; protocol?: string }[] };
};

/** Where sleeping Services point: the router's addresses and the port it serves HTTP on. */
export interface ActivatorTarget {
  addresses: readonly string[];
  port: number;
}

export const isRouterSlice = (slice: EndpointSlice): boolean => slice.metadata.labels?.[MANAGED_BY_LABEL] === ROUTER_MANAGER;

/** The router's slice of a Service: one fixed name, so every replica writes the same object. */
export const sleepingSliceName = (service: string): string => `${service.slice(0, 63 - "-berth-router".length)}-berth-router`;

/**
 * Whether the App should be reached through the router now: it scales to zero (has an idle
 * timeout or is Sleeping), is not Stopped (a stopped App stays unreachable), and none of its own
 * endpoints is ready (counting every ready address, reachable by this router or not).
 */
export function wantsSleepingEndpoint(app: App, ownReadyEndpoints: number): boolean {
  const state = app.spec.state ?? "Running";
  if (state === "Stopped") return false;
  const scalesToZero = state === "Sleeping" || (app.spec.idle?.timeoutMinutes ?? 0) > 0;
  return scalesToZero && ownReadyEndpoints === 0;
}

/**
 * The router's EndpointSlice for a Service: each of the Service's ports, by name, to the router's
 * port; one ready endpoint per router address of the slice's family (the Service's). Owned by
 * the Service, so it goes with it. Undefined when there is no router address of that family.
 */
export function desiredSleepingSlice(app: App, service: Service, target: ActivatorTarget): EndpointSlice | undefined {
  const name = service.metadata.name ?? "";
  const family = isIP(service.spec?.clusterIP ?? "") === 6 ? 6 : 4;
  const addresses = [...new Set(target.addresses.filter((a) => isIP(a) === family))].sort();
  if (!addresses.length || !service.metadata.uid) return undefined;
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: sleepingSliceName(name),
      namespace: service.metadata.namespace,
      labels: { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: ROUTER_MANAGER, [Labels.app]: app.metadata.name ?? "" },
      ownerReferences: [{ apiVersion: "v1", kind: "Service", name, uid: service.metadata.uid }],
    },
    addressType: family === 6 ? "IPv6" : "IPv4",
    endpoints: addresses.map((address) => ({ addresses: [address], conditions: { ready: true, serving: true, terminating: false } })),
    ports: (service.spec?.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: target.port, protocol: p.protocol ?? "TCP" })),
  };
}

/** Whether the cached slice already says what desired says (then nothing is written). */
export function sameSlice(cached: EndpointSlice | undefined, desired: EndpointSlice): boolean {
  if (!cached) return false;
  const shape = (s: EndpointSlice) =>
    JSON.stringify([
      s.addressType,
      (s.endpoints ?? []).map((e) => [e.addresses, e.conditions?.ready ?? true]),
      (s.ports ?? []).map((p) => [p.name ?? "", p.port, p.protocol ?? "TCP"]),
      s.metadata.labels?.[Labels.app],
      s.metadata.ownerReferences?.map((r) => r.uid),
    ]);
  return shape(cached) === shape(desired);
}
