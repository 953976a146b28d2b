// The loggers ConfigMap of a cluster job (`<job>-loggers`, owned by the App): per-allocation
// levels (`<alloc>_<loggerID>_<leaf>`) and the team's defaults (`default_<loggerID>_<leaf>`).
// The job's pods mount it at /etc/berth/loggers (src/reconcilers/desired/workloads.ts).
import type { KubeClient } from "../kube/client.ts";
import { isAlreadyExists, isNotFound } from "../kube/client.ts";
import type { KubeObject } from "../kube/resource.ts";
import { Types } from "../kube/resource.ts";
import type { App } from "../model/kinds.ts";
import { Labels } from "../model/kinds.ts";
import { loggersConfigMap } from "../model/cluster-settings.ts";
import { withOwner } from "../runtime/status.ts";

type ConfigMap = KubeObject & { data?: Record<string, string> };

/** Merges keys into the job's loggers ConfigMap, creating it owned by the App. */
export async function writeLoggers(client: KubeClient, app: App, data: Record<string, string>): Promise<void> {
  const name = loggersConfigMap(app.metadata.name ?? "");
  try {
    await client.mergePatch(Types.ConfigMap, app.metadata.namespace, name, { data });
  } catch (e) {
    if (!isNotFound(e)) throw e;
    const cm = withOwner<ConfigMap>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: app.metadata.namespace, labels: { [Labels.app]: app.metadata.name ?? "", [Labels.managedBy]: "berth" } }, data }, app);
    await client.create(Types.ConfigMap, cm).catch(async (err: unknown) => {
      if (!isAlreadyExists(err)) throw err;
      await client.mergePatch(Types.ConfigMap, app.metadata.namespace, name, { data });
    });
  }
}
