// Feeds the routing table from two shared informers: every App, and the EndpointSlices of
// Berth's app Services (the ones carrying the berth.dev/app label the Services put on them).
import type { App } from "../model/kinds.ts";
import { BerthTypes, Labels } from "../model/kinds.ts";
import type { InformerFactory } from "../runtime/informer.ts";
import type { EndpointSlice } from "./endpoints.ts";
import { EndpointSliceType, SERVICE_NAME_LABEL } from "./endpoints.ts";
import { RoutingTable } from "./routing-table.ts";

const BY_SERVICE = "by-service";

const serviceKeyOf = (slice: EndpointSlice): string | undefined => {
  const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return service ? `${slice.metadata.namespace}/${service}` : undefined;
};

/** Registers the informers (start them with the factory) and returns the table they keep. */
export function watchRoutes(informers: InformerFactory, o: { appsDomain: string; allowed?: (address: string) => boolean }): RoutingTable {
  const apps = informers.informerFor<App>(BerthTypes.App);
  const slices = informers.informerFor<EndpointSlice>(EndpointSliceType, { labelSelector: Labels.app });
  slices.addIndex(BY_SERVICE, (s) => {
    const key = serviceKeyOf(s);
    return key ? [key] : [];
  });
  const table = new RoutingTable({ ...o, slicesOf: (key) => slices.store.byIndex(BY_SERVICE, key) });
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
