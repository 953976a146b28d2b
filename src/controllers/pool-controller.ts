import { Types } from "../kube/resource.ts";
import { BerthTypes } from "../model/kinds.ts";
import { PoolReconciler } from "../reconcilers/pool.ts";
import type { Manager } from "../runtime/manager.ts";

export function setupPoolController(mgr: Manager): void {
  mgr
    .controller("pool")
    .for(BerthTypes.Pool)
    .owns(Types.ResourceQuota, { labelSelector: "app.kubernetes.io/managed-by=berth" })
    .owns(Types.LimitRange, { labelSelector: "app.kubernetes.io/managed-by=berth" })
    .complete(new PoolReconciler(mgr.client, mgr.informers));
}
