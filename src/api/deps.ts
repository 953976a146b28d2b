// What every dialect's handlers get: the Kubernetes client for writes, the shared caches for reads.
import type { KubeClient } from "../kube/client.ts";
import type { Logger } from "../log.ts";
import type { InformerFactory } from "../runtime/informer.ts";

export interface ApiDeps {
  client: KubeClient;
  informers: InformerFactory;
  log: Logger;
}
