// A manager with one ConfigMap controller in a test namespace, whose reconciler the test
// supplies. The usual child: "<name>-child" ConfigMap, applied with an ownerReference.
import { KubeClient, isNotFound } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/resource.ts";
import { Types } from "../../../src/kube/resource.ts";
import { silentLogger } from "../../../src/log.ts";
import type { Controller } from "../../../src/runtime/controller.ts";
import { Manager } from "../../../src/runtime/manager.ts";
import type { ManagerOptions } from "../../../src/runtime/manager.ts";
import { applyChild, withOwner } from "../../../src/runtime/status.ts";
import type { ObjectKey, ReconcileContext, Reconciler } from "../../../src/runtime/types.ts";

export type ConfigMap = KubeObject & { data?: Record<string, string> };

export async function client(): Promise<KubeClient> {
  return KubeClient.create();
}

export interface Running {
  manager: Manager;
  controller: Controller;
  stop(): Promise<void>;
}

export async function runController(
  namespace: string,
  reconcile: (key: ObjectKey, ctx: ReconcileContext) => Promise<void>,
  o: Partial<ManagerOptions> & { backoffBaseMs?: number } = {},
): Promise<Running> {
  const manager = new Manager({ client: await client(), log: silentLogger(), ...o });
  const reconciler: Reconciler = { reconcile: async (k, ctx) => reconcile(k, ctx) };
  const controller = manager
    .controller(`test-${namespace}`)
    .for(Types.ConfigMap, { namespace, labelSelector: "berth.dev/test=source" })
    .withOptions({ concurrency: 2, backoffBaseMs: o.backoffBaseMs })
    .complete(reconciler);
  const abort = new AbortController();
  const done = manager.run(abort.signal);
  await manager.informers.waitForSync();
  return {
    manager,
    controller,
    stop: async () => {
      abort.abort();
      await done;
      await manager.close();
    },
  };
}

/** Copies a source ConfigMap's data into its child: the standard reconcile of these tests. */
export async function copyToChild(kube: KubeClient, manager: Manager, namespace: string, key: ObjectKey): Promise<void> {
  const src = manager.informers
    .informerFor<ConfigMap>(Types.ConfigMap, { namespace, labelSelector: "berth.dev/test=source" })
    .store.get(`${key.namespace}/${key.name}`);
  if (!src) return;
  const child: ConfigMap = withOwner({ metadata: { name: `${key.name}-child`, namespace }, data: src.data ?? {} }, src);
  await applyChild(kube, Types.ConfigMap, child);
}

export async function childData(kube: KubeClient, namespace: string, name: string): Promise<Record<string, string> | undefined> {
  try {
    return (await kube.get<ConfigMap>(Types.ConfigMap, namespace, `${name}-child`)).data ?? {};
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export const source = (name: string, namespace: string, data: Record<string, string>): ConfigMap => ({
  metadata: { name, namespace, labels: { "berth.dev/test": "source" } },
  data,
});
