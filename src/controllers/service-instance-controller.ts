import { Types } from "../kube/resource.ts";
import type { App } from "../model/kinds.ts";
import { BerthTypes } from "../model/kinds.ts";
import { ServiceInstanceReconciler } from "../reconcilers/service-instance.ts";
import type { Manager } from "../runtime/manager.ts";

export function setupServiceInstanceController(mgr: Manager): void {
  const managed = { labelSelector: "app.kubernetes.io/managed-by=berth" };
  mgr
    .controller("serviceinstance")
    .for(BerthTypes.ServiceInstance)
    .owns(Types.Deployment, managed)
    .owns(Types.StatefulSet, managed)
    // Binding or unbinding an app changes the instance's bound list (and may unblock deletion).
    .watches<App>(BerthTypes.App, (a) => (a.spec.serviceBindings ?? []).map((b) => ({ namespace: a.metadata.namespace, name: b.name })))
    .complete(new ServiceInstanceReconciler(mgr.client, mgr.informers));
}
