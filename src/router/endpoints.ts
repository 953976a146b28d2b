// EndpointSlices -> the ready endpoints of a Service port, and round-robin choice among them.
import { isIP } from "node:net";
import type { KubeObject, ResourceType } from "../kube/resource.ts";

export const EndpointSliceType: ResourceType = { group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices", namespaced: true };

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export interface SliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  nodeName?: string;
  targetRef?: { kind?: string; name?: string; namespace?: string };
}

export type EndpointSlice = KubeObject & {
  addressType: "IPv4" | "IPv6" | "FQDN";
  endpoints?: SliceEndpoint[] | null;
  ports?: { name?: string; port?: number; protocol?: string }[] | null;
};

export interface Endpoint {
  address: string;
  port: number;
  /** "10.0.0.1:8080" or "[fd00::1]:8080": the keep-alive pool's key. */
  key: string;
  /** The pod behind it, for access logs. */
  pod?: string;
}

export const endpointKey = (address: string, port: number): string => (isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`);

/** The slice port named portName, else the first with a number; undefined when none. */
function slicePort(slice: EndpointSlice, portName: string | undefined): number | undefined {
  const ports = (slice.ports ?? []).filter((p) => p.port !== undefined);
  return (ports.find((p) => (p.name ?? "") === (portName ?? "")) ?? ports[0])?.port;
}

/**
 * The ready endpoints of a Service's slices on the named port, de-duplicated and sorted (a
 * stable order keeps round robin fair across slice updates). `ready` unset counts as ready, as
 * the API documents; FQDN slices and addresses outside `allowed` are skipped.
 */
export function readyEndpoints(slices: readonly EndpointSlice[], portName: string | undefined, allowed: (address: string) => boolean = () => true): Endpoint[] {
  const byKey = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.addressType === "FQDN") continue;
    const port = slicePort(slice, portName);
    if (port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const address of ep.addresses) {
        if (!isIP(address) || !allowed(address)) continue;
        const key = endpointKey(address, port);
        byKey.set(key, { address, port, key, ...(ep.targetRef?.name ? { pod: ep.targetRef.name } : {}) });
      }
    }
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Round robin: the endpoint at `cursor` (mod length), or the next one not yet tried in this
 * request; undefined when every endpoint was tried.
 */
export function pickEndpoint(endpoints: readonly Endpoint[], cursor: number, tried: ReadonlySet<string> = new Set()): Endpoint | undefined {
  const n = endpoints.length;
  for (let i = 0; i < n; i++) {
    const ep = endpoints[(((cursor + i) % n) + n) % n];
    if (ep && !tried.has(ep.key)) return ep;
  }
  return undefined;
}
