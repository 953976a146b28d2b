// Pool reconciler: the pool's namespace (labelled, never garbage-collected with the pool:
// it holds apps), its ResourceQuota and LimitRange.
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject } from "../kube/resource.ts";
import { Types } from "../kube/resource.ts";
import type { Pool } from "../model/kinds.ts";
import { BerthTypes, Labels } from "../model/kinds.ts";
import { setCondition } from "../runtime/conditions.ts";
import type { InformerFactory } from "../runtime/informer.ts";
import { FIELD_MANAGER, updateStatus, withOwner } from "../runtime/status.ts";
import type { ObjectKey, Reconciler } from "../runtime/types.ts";

export const poolNamespace = (pool: Pool): string => pool.spec.namespace ?? `pool-${pool.metadata.name}`;

export function desiredPoolObjects(pool: Pool): { namespace: KubeObject; quota?: KubeObject; limits: KubeObject } {
  const ns = poolNamespace(pool);
  const labels = { [Labels.pool]: pool.metadata.name ?? "", [Labels.managedBy]: "berth" };
  const q = pool.spec.quota;
  const hard: Record<string, string> = {};
  if (q?.pods !== undefined) hard.pods = String(q.pods);
  if (q?.cpu) hard["requests.cpu"] = q.cpu;
  if (q?.memory) hard["requests.memory"] = q.memory;
  return {
    namespace: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels } },
    quota: Object.keys(hard).length
      ? withOwner({ apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "berth-pool", namespace: ns, labels }, spec: { hard } }, pool)
      : undefined,
    // Containers without a plan still get sane requests, so a quota can count them.
    limits: withOwner(
      {
        apiVersion: "v1",
        kind: "LimitRange",
        metadata: { name: "berth-pool", namespace: ns, labels },
        spec: { limits: [{ type: "Container", defaultRequest: { cpu: "50m", memory: "64Mi" }, default: { memory: "512Mi" } }] },
      },
      pool,
    ),
  };
}

export class PoolReconciler implements Reconciler {
  constructor(
    private readonly client: KubeClient,
    private readonly informers: InformerFactory,
  ) {}

  async reconcile(key: ObjectKey): Promise<void> {
    const pool = this.informers.informerFor<Pool>(BerthTypes.Pool).store.get(key.name);
    if (!pool || pool.metadata.deletionTimestamp) return;
    const { namespace, quota, limits } = desiredPoolObjects(pool);
    await this.client.apply(Types.Namespace, namespace, FIELD_MANAGER);
    if (quota) await this.client.apply(Types.ResourceQuota, quota, FIELD_MANAGER);
    else await this.client.delete(Types.ResourceQuota, namespace.metadata.name, "berth-pool").catch(() => undefined);
    await this.client.apply(Types.LimitRange, limits, FIELD_MANAGER);
    const gen = pool.metadata.generation;
    await updateStatus(this.client, BerthTypes.Pool, pool, {
      observedGeneration: gen,
      namespace: namespace.metadata.name,
      conditions: setCondition(pool.status?.conditions, {
        type: "Ready",
        status: "True",
        reason: "NamespaceReady",
        message: `apps run in namespace ${namespace.metadata.name}`,
        observedGeneration: gen,
      }),
    });
  }
}
