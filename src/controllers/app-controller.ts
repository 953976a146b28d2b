// Wiring of the App controller: which events enqueue which App keys.
import type { KubeObject } from "../kube/resource.ts";
import { Types } from "../kube/resource.ts";
import type { App, Release, ServiceInstance } from "../model/kinds.ts";
import { BerthTypes, Labels } from "../model/kinds.ts";
import { AppReconciler, PENDING_PODS } from "../reconcilers/app.ts";
import { STATUS_WINDOW_MS } from "../reconcilers/desired/status-timing.ts";
import type { PodLike } from "../reconcilers/desired/pod-problems.ts";
import { imageProblem } from "../reconcilers/desired/pod-problems.ts";
import type { Manager } from "../runtime/manager.ts";

const MANAGED = { labelSelector: `${Labels.managedBy}=berth` };

export function setupAppController(mgr: Manager, concurrency: number, secretNamespaces: readonly string[] = [], statusWindowMs = STATUS_WINDOW_MS): void {
  const f = mgr.informers;
  const apps = f.informerFor<App>(BerthTypes.App);
  apps.addIndex("pool", (a) => [a.spec.pool ?? ""]);
  apps.addIndex("plan", (a) => [a.spec.plan ?? ""]);
  apps.addIndex("binding", (a) => (a.spec.serviceBindings ?? []).map((b) => `${a.metadata.namespace}/${b.name}`));
  f.informerFor<Release>(BerthTypes.Release).addIndex("app", (r) => [`${r.metadata.namespace}/${r.spec.app}`]);

  // Pools and plans apply to the apps that name them, and (as defaults) to those naming none.
  const byIndex = (index: string) => (o: KubeObject) => {
    const named = apps.store.byIndex(index, o.metadata.name ?? "");
    const defaults = (o.spec as { default?: boolean } | undefined)?.default ? apps.store.byIndex(index, "") : [];
    return [...named, ...defaults].map((a) => ({ namespace: a.metadata.namespace, name: a.metadata.name ?? "" }));
  };

  const keyOfApp = (a: App) => ({ namespace: a.metadata.namespace, name: a.metadata.name ?? "" });
  const bound = (si: KubeObject) => apps.store.byIndex("binding", `${si.metadata.namespace}/${si.metadata.name}`).map(keyOfApp);
  const instances = f.informerFor<ServiceInstance>(BerthTypes.ServiceInstance).store;
  const usesClass = (a: App, cls: string) => (a.spec.serviceBindings ?? []).some((b) => instances.get(`${a.metadata.namespace}/${b.name}`)?.spec.serviceClass === cls);

  const b = mgr
    .controller("app")
    .for(BerthTypes.App)
    .owns(BerthTypes.Release)
    .watches(BerthTypes.Pool, byIndex("pool"))
    .watches(BerthTypes.Plan, byIndex("plan"))
    .watches(BerthTypes.ServiceInstance, bound)
    .watches(BerthTypes.ServiceClass, (cls) => apps.store.list().filter((a) => a.spec.serviceBindings?.length).filter((a) => usesClass(a, cls.metadata.name ?? "")).map(keyOfApp))
    // Pods that cannot pull their image: their App's status says why. Only those enqueue (KWOK's
    // pods, thousands in benchmarks, go from Pending to Running without ever waiting on a pull).
    .watches<PodLike>(Types.Pod, (pod) => {
      const app = pod.metadata.labels?.[Labels.app];
      return app && imageProblem([pod]) ? [{ namespace: pod.metadata.namespace, name: app }] : [];
    }, PENDING_PODS)
    .withOptions({ concurrency });
  // Every Secret the reconciler reads triggers it: the private environment (labelled with its
  // app) and the credentials of bound instances (labelled with their instance). Cluster-wide,
  // or in each of secretNamespaces where RBAC grants Secrets only there. Not the releases'
  // environment Secrets (labelled with their release too): immutable, one per release, read
  // only when rolling out; caching them would hold every release's environment in memory.
  for (const namespace of secretNamespaces.length ? secretNamespaces : [undefined]) {
    b.watches(Types.Secret, (s) => {
      const app = s.metadata.labels?.[Labels.app];
      return app ? [{ namespace: s.metadata.namespace, name: app }] : [];
    }, { namespace, labelSelector: `${Labels.app},!${Labels.release}` });
    b.watches(Types.Secret, (s) => bound({ metadata: { namespace: s.metadata.namespace, name: s.metadata.labels?.[Labels.instance] ?? "" } }), { namespace, labelSelector: Labels.instance });
  }
  for (const t of [Types.Deployment, Types.Service, Types.HorizontalPodAutoscaler, Types.PodDisruptionBudget, Types.Ingress]) b.owns(t, MANAGED);
  b.complete(new AppReconciler(mgr.client, f, mgr.events, statusWindowMs));
}
