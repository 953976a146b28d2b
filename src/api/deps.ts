// What every dialect's handlers get: the Kubernetes client for writes, the shared caches for reads.
import type { KubeClient } from "../kube/client.ts";
import type { Logger } from "../log.ts";
import type { InformerFactory } from "../runtime/informer.ts";
import type { IdentityStore } from "./identity/store.ts";
import type { AppStore } from "./apps/store.ts";
import type { ClusterStore } from "./cluster/store.ts";
import type { WaiterTokenStore } from "./waiter/token-store.ts";

export interface ApiDeps {
  client: KubeClient;
  informers: InformerFactory;
  log: Logger;
  identity: IdentityStore;
  apps: AppStore;
  /** The cluster API's settings, secrets and change feed. */
  cluster: ClusterStore;
  /** Waiter tokens (their cache registered before the caches start). */
  waiterTokens: WaiterTokenStore;
  /** True once every cache the dialects read has synced. */
  ready: () => boolean;
}
