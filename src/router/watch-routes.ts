// Feeds the routing table from shared informers: every App, the EndpointSlices of Berth's app
// Services (the ones carrying the berth.dev/app label the Services put on them; the router's own
// sleeping slices are left out of the endpoints), and those Services (ClusterIP -> Service, for
// requests that reach the router through a sleeping app's ClusterIP with an IP as Host).
import { Types } from "../kube/resource.ts";
import type { App } from "../model/kinds.ts";
import { BerthTypes, Labels } from "../model/kinds.ts";
import type { InformerFactory } from "../runtime/informer.ts";
import type { Selector } from "../runtime/reflector.ts";
import type { EndpointSlice } from "./endpoints.ts";
import { EndpointSliceType, SERVICE_NAME_LABEL } from "./endpoints.ts";
import { RoutingTable } from "./routing-table.ts";
import type { Service } from "./sleeping-slice.ts";
import { isRouterSlice } from "./sleeping-slice.ts";

/** The slices and Services of Berth's apps: both carry the berth.dev/app label. */
export const APP_OBJECTS: Selector = { labelSelector: Labels.app };
export const BY_SERVICE = "by-service";
const BY_CLUSTER_IP = "by-cluster-ip";

export const serviceKeyOf = (slice: EndpointSlice): string | undefined => {
  const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return service ? `${slice.metadata.namespace}/${service}` : undefined;
};

/** Registers the informers (start them with the factory) and returns the table they keep. */
export function watchRoutes(informers: InformerFactory, o: { appsDomain: string; allowed?: (address: string) => boolean }): RoutingTable {
  const apps = informers.informerFor<App>(BerthTypes.App);
  const slices = informers.informerFor<EndpointSlice>(EndpointSliceType, APP_OBJECTS);
  slices.addIndex(BY_SERVICE, (s) => {
    const key = serviceKeyOf(s);
    return key ? [key] : [];
  });
  const services = informers.informerFor<Service>(Types.Service, APP_OBJECTS);
  services.addIndex(BY_CLUSTER_IP, (s) => (s.spec?.clusterIPs ?? [s.spec?.clusterIP ?? ""]).filter((ip) => ip && ip !== "None"));
  const table = new RoutingTable({
    ...o,
    slicesOf: (key) => slices.store.byIndex(BY_SERVICE, key).filter((s) => !isRouterSlice(s)),
    serviceByClusterIP: (ip) => {
      const svc = services.store.byIndex(BY_CLUSTER_IP, ip)[0];
      return svc && `${svc.metadata.namespace}/${svc.metadata.name}`;
    },
  });
  apps.addHandler({
    onAdd: (a) => table.setApp(a),
    onUpdate: (old, a) => {
      // Status writes are most App updates; routes depend on the spec only.
      if (old.metadata.generation !== a.metadata.generation || old.metadata.generation === undefined) table.setApp(a);
    },
    onDelete: (a) => table.deleteApp(a),
  });
  const changed = (s: EndpointSlice) => {
    const key = serviceKeyOf(s);
    if (key) table.serviceChanged(key);
  };
  slices.addHandler({ onAdd: changed, onUpdate: (old, s) => (changed(old), changed(s)), onDelete: changed });
  return table;
}
