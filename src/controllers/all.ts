// Every controller of `berth run`, wired onto one manager: the one list of what the operator
// runs (the tests and the RBAC check start exactly this set).
import type { Manager } from "../runtime/manager.ts";
import { setupAppController } from "./app-controller.ts";
import { setupClusterSettingsController } from "./cluster-settings-controller.ts";
import { setupPoolController } from "./pool-controller.ts";
import { setupServiceInstanceController } from "./service-instance-controller.ts";
import { setupTeamController } from "./team-controller.ts";
import { setupTokenController } from "./token-controller.ts";

export interface ControllersOptions {
  /** Berth's own namespace (ClusterSettings, tokens). */
  namespace: string;
  /** App reconciles in parallel. */
  concurrency: number;
  /** Namespaces whose Secrets the App controller may read (empty: cluster-wide). */
  secretNamespaces?: readonly string[];
  /** How long one minute of a service's idle timeout lasts (tests shorten it). */
  serviceIdleMinuteMs?: number;
}

export function setupControllers(manager: Manager, o: ControllersOptions): void {
  setupAppController(manager, o.concurrency, o.secretNamespaces ?? []);
  setupPoolController(manager);
  setupTokenController(manager);
  setupTeamController(manager);
  setupServiceInstanceController(manager, { idleMinuteMs: o.serviceIdleMinuteMs });
  setupClusterSettingsController(manager, o.namespace);
}
