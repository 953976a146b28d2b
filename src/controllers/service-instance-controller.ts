import { Types } from "../kube/resource.ts";
import type { App, ServiceInstance } from "../model/kinds.ts";
import { BerthTypes } from "../model/kinds.ts";
import { ServiceInstanceReconciler } from "../reconcilers/service-instance.ts";
import type { Manager } from "../runtime/manager.ts";

/** idleMinuteMs: how long a minute of a service's idle timeout lasts (config.serviceIdleMinuteMs). */
export function setupServiceInstanceController(mgr: Manager, o: { idleMinuteMs?: number } = {}): void {
  const managed = { labelSelector: "app.kubernetes.io/managed-by=berth" };
  const instances = () => mgr.informers.informerFor<ServiceInstance>(BerthTypes.ServiceInstance).store.list();
  mgr
    .controller("serviceinstance")
    .for(BerthTypes.ServiceInstance)
    .owns(Types.Deployment, managed)
    .owns(Types.StatefulSet, managed)
    // Binding or unbinding an app changes the instance's bound list (and may unblock deletion).
    .watches<App>(BerthTypes.App, (a) => (a.spec.serviceBindings ?? []).map((b) => ({ namespace: a.metadata.namespace, name: b.name })))
    // An instance created before its class (any apply order) converges when the class appears.
    .watches(BerthTypes.ServiceClass, (cls) =>
      instances()
        .filter((si) => si.spec.serviceClass === cls.metadata.name)
        .map((si) => ({ namespace: si.metadata.namespace, name: si.metadata.name ?? "" })),
    )
    .complete(new ServiceInstanceReconciler(mgr.client, mgr.informers, o.idleMinuteMs));
}
