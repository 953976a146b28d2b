// Keeps the router's sleeping slices (sleeping-slice.ts) in step with the Apps: a small
// controller on the router's own caches (Apps, app EndpointSlices and Services), keyed by App.
// It writes only when the cached slice differs from the desired one, so N replicas converging on
// the same state cost no requests in the steady state.
import type { KubeClient } from "../kube/client.ts";
import { Types, keyOf, splitKey } from "../kube/resource.ts";
import type { Logger } from "../log.ts";
import type { App } from "../model/kinds.ts";
import { BerthTypes, Labels } from "../model/kinds.ts";
import { primaryProcess, workloadName } from "../reconcilers/desired/workloads.ts";
import { Controller } from "../runtime/controller.ts";
import type { Informer, InformerFactory } from "../runtime/informer.ts";
import type { ObjectKey, Reconciler } from "../runtime/types.ts";
import type { EndpointSlice } from "./endpoints.ts";
import { EndpointSliceType, SERVICE_NAME_LABEL, readyEndpoints } from "./endpoints.ts";
import type { ActivatorTarget, Service } from "./sleeping-slice.ts";
import { ROUTER_MANAGER, desiredSleepingSlice, isRouterSlice, sameSlice, wantsSleepingEndpoint } from "./sleeping-slice.ts";
import { APP_OBJECTS, BY_SERVICE } from "./watch-routes.ts";

export interface SleepingEndpoints {
  /** Runs the controller until signal aborts (start after the informers synced). */
  run(signal: AbortSignal): Promise<void>;
  /** Where sleeping Services point changed: every App is looked at again. */
  targetChanged(): void;
  /** Deletes every sleeping slice this router wrote (a router that was the only target). */
  deleteAll(): Promise<void>;
}

const notFound = (e: unknown): boolean => (e as { statusCode?: number }).statusCode === 404;

class SleepingEndpointsReconciler implements Reconciler {
  constructor(
    private readonly client: KubeClient,
    private readonly apps: Informer<App>,
    private readonly slices: Informer<EndpointSlice>,
    private readonly services: Informer<Service>,
    private readonly target: () => ActivatorTarget | undefined,
  ) {}

  async reconcile(key: ObjectKey): Promise<void> {
    const target = this.target();
    // No router address known yet (the router Service has no ready endpoint): change nothing.
    if (!target?.addresses.length) return;
    const ns = key.namespace ?? "";
    const app = this.apps.store.get(`${ns}/${key.name}`);
    const desired = app && !app.metadata.deletionTimestamp ? this.desired(app, target) : undefined;
    const mine = this.slices.store.list(ns).filter((s) => isRouterSlice(s) && s.metadata.labels?.[Labels.app] === key.name);
    for (const stale of mine.filter((s) => s.metadata.name !== desired?.metadata.name)) {
      await this.client.delete(EndpointSliceType, ns, stale.metadata.name ?? "").catch((e: unknown) => {
        if (!notFound(e)) throw e;
      });
    }
    if (desired && !sameSlice(mine.find((s) => s.metadata.name === desired.metadata.name), desired)) {
      await this.client.apply(EndpointSliceType, desired, ROUTER_MANAGER, { force: true });
    }
  }

  private desired(app: App, target: ActivatorTarget): EndpointSlice | undefined {
    const web = primaryProcess(app.spec.processes ?? []);
    if (!web?.ports?.length) return undefined;
    const serviceKey = `${app.metadata.namespace}/${workloadName(app.metadata.name ?? "", web.name)}`;
    const service = this.services.store.get(serviceKey);
    if (!service) return undefined;
    const own = this.slices.store.byIndex(BY_SERVICE, serviceKey).filter((s) => !isRouterSlice(s));
    if (!wantsSleepingEndpoint(app, readyEndpoints(own, undefined).length)) return undefined;
    return desiredSleepingSlice(app, service, target);
  }
}

/** Sets the controller up on the router's informers (call before they start). */
export function sleepingEndpoints(client: KubeClient, informers: InformerFactory, log: Logger, target: () => ActivatorTarget | undefined): SleepingEndpoints {
  const apps = informers.informerFor<App>(BerthTypes.App);
  const slices = informers.informerFor<EndpointSlice>(EndpointSliceType, APP_OBJECTS);
  const services = informers.informerFor<Service>(Types.Service, APP_OBJECTS);
  const controller = new Controller("sleeping-endpoints", new SleepingEndpointsReconciler(client, apps, slices, services, target), log, { backoffBaseMs: 200, backoffCapMs: 30_000 });
  controller.primary = informers.informerFor(BerthTypes.App);
  controller.watch(apps, (a) => [splitKey(keyOf(a))]);
  // A slice or Service of an app: the app's key (the label the Service and its slices carry).
  const appKey = (o: EndpointSlice | Service): ObjectKey[] => {
    const name = o.metadata.labels?.[Labels.app];
    return name ? [{ namespace: o.metadata.namespace, name }] : [];
  };
  controller.watch(slices, appKey);
  controller.watch(services, appKey);
  return {
    run: (signal) => controller.run(signal),
    targetChanged: () => {
      for (const a of apps.store.list()) controller.enqueue(splitKey(keyOf(a)));
    },
    deleteAll: async () => {
      for (const s of slices.store.list().filter(isRouterSlice)) {
        await client.delete(EndpointSliceType, s.metadata.namespace, s.metadata.name ?? "").catch(() => undefined);
      }
    },
  };
}

/**
 * Where sleeping Services point when they follow the router's own Service (Helm): the ready
 * endpoints of its port named "http", read from an informer on that Service's slices.
 */
export function routerServiceTarget(informers: InformerFactory, serviceKey: string, port: number | undefined, changed: () => void): () => ActivatorTarget | undefined {
  const [namespace = "", name = ""] = serviceKey.split("/");
  const inf = informers.informerFor<EndpointSlice>(EndpointSliceType, { namespace, labelSelector: `${SERVICE_NAME_LABEL}=${name}` });
  inf.addHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
  return () => {
    const eps = readyEndpoints(inf.store.list(), "http");
    const first = eps[0];
    return first ? { addresses: eps.map((e) => e.address), port: port ?? first.port } : undefined;
  };
}
